//! Contrastive UCB: contrastive features and optimistic planning for low-rank MDPs and Markov games.
#![cfg_attr(not(feature = "std"), no_std)]

extern crate alloc;
