-- Offer failover (issue 20). Why an order last left an offer (smmd_domain::failover::Reason
-- code; NULL = it never moved), when a provider last refused an order for lack of funds
-- (epoch ms; cleared when it accepts one), and since when an upstream service is absent from
-- its provider's service list (epoch ms; NULL = listed at the last read).
ALTER TABLE orders ADD COLUMN route_reason TEXT;
ALTER TABLE orders_archive ADD COLUMN route_reason TEXT;
ALTER TABLE providers ADD COLUMN out_of_funds_at BIGINT;
ALTER TABLE provider_costs ADD COLUMN missing_since BIGINT;
