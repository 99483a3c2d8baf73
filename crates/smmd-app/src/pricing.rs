//! The one pricing function: what a user pays for a service. The list rate (the catalogue's
//! markup over provider cost) less the discount of the `reseller_tier` plans the user rents,
//! or the customer's custom rate an admin set ([`crate::people`]): a fixed rate for the
//! service wins, else the best discount (`smmd_domain::billing::entitlement::PriceBook`). Order placement charges by it and every
//! interface shows it: `/api/v2` `services`, REST, the order pages, the mass order.

use smmd_domain::billing::entitlement::PriceBook;
use smmd_domain::UserId;
use smmd_store::{Service, StoreResult};

use crate::App;

/// The user's price book, read from their live rentals and their custom rates.
pub async fn price_book(app: App<'_>, user: UserId) -> StoreResult<PriceBook> {
    let live = app.store.live_entitlements(user).await?;
    let custom = app.store.custom_rates(user).await?;
    Ok(book(&live, custom))
}

/// The price book of the live rentals' `(entitlement, settings JSON)` and the custom rates
/// read (all of them, or those that can price the one service being ordered:
/// [`smmd_store::OrderContext`]).
pub fn book(
    live: &[(String, String)],
    custom: Vec<smmd_domain::custom_rate::CustomRate>,
) -> PriceBook {
    PriceBook::new(live).with_custom(custom)
}

/// `service` as `book` prices it: the same service with the user's rate.
pub fn priced(book: &PriceBook, service: &Service) -> Service {
    let mut s = service.clone();
    s.rate = book.rate(service.rate, service.category_id.0, service.id.0);
    s
}
