-- A queue's messages, final ones included: a dial-test run is judged from
-- all its probes on each probe's attempt, and a kit queue's held syncs are
-- found by queue. The queue-head index covers only pending messages, so
-- these read the whole outbox.
CREATE INDEX messages_queue ON messages (queue, seq);
