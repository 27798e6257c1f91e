-- Listings newest first, a page at a time (the console, the admin API's
-- order=newest): each reads its index from the end and stops at its
-- limit, instead of sorting or scanning a whole history.
CREATE INDEX notices_created ON notices (created_at, seq);
CREATE INDEX orders_created ON orders (created_at, seq);
CREATE INDEX instances_created ON instances (created_at, seq);
-- Messages by status and by activity: a rare one (the few that stopped)
-- would otherwise be found by reading every message. Two indexes only:
-- each one is written with every callback.
CREATE INDEX messages_outcome ON messages (outcome, seq);
CREATE INDEX messages_activity ON messages (activity, seq);
