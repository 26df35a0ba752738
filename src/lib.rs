//! eventscope: explore event stores and travel through an aggregate's history.
//!
//! The library holds everything that is not terminal code: [`store`] reads (and, for `demo`
//! and `import`, writes) event stores, [`replay`] folds events into state and compares
//! states, [`demo`] builds the bundled demo store. The CLI and the TUI are thin faces over it.
#![forbid(unsafe_code)]

pub mod demo;
pub mod event;
pub mod export;
pub mod fast_paths;
pub mod files;
pub mod project;
pub mod replay;
pub mod store;
pub mod time;

pub use event::{
    category_of, columns, count, fields_differ, fit, fit_middle, pad, preview, printable,
    thousands, with_article, Event,
};
