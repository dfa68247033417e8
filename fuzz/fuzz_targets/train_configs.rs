//! Every TOML config reader (the trainer's, the three self-play games', DPO
//! self-reinforcement's): never panics, and what one accepts it writes back out as text
//! that it accepts again.
#![no_main]

use libfuzzer_sys::fuzz_target;
use spar_train::azr_selfplay::AzrConfig;
use spar_train::kuhn_selfplay::KuhnConfig;
use spar_train::self_reinforce::SelfReinforceConfig;
use spar_train::tictactoe_selfplay::TicTacToeConfig;
use spar_train::TrainConfig;

/// `from_toml`, and for an accepted config `from_toml(to_toml())` accepted too.
macro_rules! round_trip {
    ($ty:ty, $text:expr) => {
        if let Ok(c) = <$ty>::from_toml($text) {
            let again = c.to_toml();
            assert!(<$ty>::from_toml(&again).is_ok(), "{again}");
        }
    };
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    round_trip!(TrainConfig, text);
    round_trip!(KuhnConfig, text);
    round_trip!(TicTacToeConfig, text);
    round_trip!(AzrConfig, text);
    round_trip!(SelfReinforceConfig, text);
});
