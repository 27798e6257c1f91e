-- The pending messages by origin, then as messages_due: the outbox read
-- that leaves out the merchants at their bound takes each other
-- merchant's earliest heads from here, and never walks the backlog of one
-- it leaves out. Through messages_due it walked every due head of such a
-- merchant ahead of the others' (100,000 of them: 600 times a read with
-- none).
CREATE INDEX messages_origin ON messages (origin, next_attempt_at, seq, queue) WHERE outcome = 'PENDING';
