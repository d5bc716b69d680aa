//! mimalloc's settings for the `tandem` binary, whose global allocator it is.
//!
//! Two options keep an idle server small. Arenas are committed as they are used, not
//! when reserved (`MI_DEFAULT_ARENA_EAGER_COMMIT=0`, a build flag in
//! `.cargo/config.toml`: mimalloc reserves its first arena before `main` runs). Freed
//! memory goes back to the OS at once rather than a second later (`tune`): otherwise
//! what start-up freed stayed resident while the server was idle. With both, an idle
//! server holds about 28 MiB instead of 33 with glibc's malloc (step 19 of
//! docs/performance.md).

use libmimalloc_sys::{mi_option_set, mi_option_t};

// An index of `mi_option_e` in the vendored mimalloc.h (v3); the crate names only some.
const PURGE_DELAY: mi_option_t = 15;

/// Purges freed memory without delay. Called first thing in `main`.
#[allow(unsafe_code)]
pub fn tune() {
    // SAFETY: stores an integer in mimalloc's option table; the index is within it.
    unsafe { mi_option_set(PURGE_DELAY, 0) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use libmimalloc_sys::mi_option_get;

    const ARENA_EAGER_COMMIT: mi_option_t = 4;

    #[allow(unsafe_code)]
    fn option(index: mi_option_t) -> std::ffi::c_long {
        // SAFETY: reads an integer from mimalloc's option table; the index is within it.
        unsafe { mi_option_get(index) }
    }

    #[test]
    fn arenas_are_committed_lazily_and_freed_memory_purged_at_once() {
        // The build flag reached mimalloc's sources (default 2: eager on Linux).
        assert_eq!(option(ARENA_EAGER_COMMIT), 0);
        // The index names the purge delay: mimalloc v3's default is 1000 ms.
        assert_eq!(option(PURGE_DELAY), 1000);
        tune();
        assert_eq!(option(PURGE_DELAY), 0);
    }
}
