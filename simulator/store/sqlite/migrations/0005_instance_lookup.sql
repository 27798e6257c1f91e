-- A purchase's answer is checked against the product's other instances
-- by instanceId. With separate indexes on product_id and instance_id the
-- planner picked product_id and read every instance of the product, so
-- provisioning n instances cost n² reads; one index on both finds the few.
-- It also serves the product-only listing, which uses its prefix.
DROP INDEX instances_product;
CREATE INDEX instances_product ON instances (product_id, instance_id);
