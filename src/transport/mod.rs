//! Transports move envelopes between parties. They know nothing of protocols: they list
//! candidate incoming messages and deliver outgoing ones. Validation happens in
//! `ceremony`, the same for every transport.

pub mod dir;
pub mod qr;
pub mod relay;
