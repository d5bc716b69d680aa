//! Authentication: access tokens (JWT), refresh tokens (opaque, rotating) and passwords.

pub mod jwt;
pub mod password;
pub mod refresh;
