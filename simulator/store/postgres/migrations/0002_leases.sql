-- Leases of the replicas sharing the database (simulator.Leaser): a piece
-- of work, named, held by one replica until a wall-clock time in Unix
-- nanoseconds.
CREATE TABLE leases (
	name  text PRIMARY KEY,
	owner text NOT NULL,
	until bigint NOT NULL
);
