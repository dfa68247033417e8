//! The spar self-improvement trainer in a browser tab.
//!
//! The page (`index.html`, `app.js`) drives a [`spar_train::Trainer`] one `async` step at a
//! time, on WebGPU through `spar-gpu` when the browser offers an adapter and on the CPU
//! backend compiled to wasm otherwise. Between steps the page redraws its charts, so nothing
//! blocks the browser's thread for longer than one step.
//!
//! The backend-independent part ([`demo`]) also builds natively: the `reference` example
//! computes the CPU backend's log-probabilities for the browser test to compare against.

pub mod demo;

#[cfg(target_arch = "wasm32")]
pub mod web;
