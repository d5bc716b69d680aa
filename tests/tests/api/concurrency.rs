//! Pairing invariants under concurrent requests.
