-- Due reads pending messages in due order and stops at its limit; without
-- this index every pass sorted the whole backlog.
CREATE INDEX messages_due ON messages (next_attempt_at, id) WHERE outcome = 'PENDING';
