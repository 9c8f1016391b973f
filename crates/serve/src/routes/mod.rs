//! The HTTP routes, one module per area.

pub(crate) mod captures;
pub(crate) mod counts;
pub(crate) mod hosts;
