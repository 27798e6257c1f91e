-- Kit syncs are no longer a kind of their own: they are the messages of
-- protocol kit, of the kind of any call the marketplace sends on its own.
-- Those stored as kind KIT take that kind, so that the kit console, which
-- finds them by protocol, and delivery treat them as it treats new ones.
UPDATE messages SET kind = 'LIFECYCLE' WHERE kind = 'KIT';
