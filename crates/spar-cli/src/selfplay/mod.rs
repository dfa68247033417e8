//! `spar selfplay`: one model plays a game against itself. `--game` picks the game (Kuhn
//! poker unless another is named); this is the one place that reads it, and each game's
//! module runs its own flags, config and loop.

mod azr;
mod kuhn;
mod tictactoe;

use crate::common::CliResult;

/// Runs `spar selfplay [--game kuhn|tictactoe|absolute_zero] ...` (see each game's module
/// for its flags).
pub fn command(argv: &[String]) -> CliResult {
    if names_game(argv, tictactoe::GAME) {
        tictactoe::run(argv)
    } else if names_game(argv, azr::GAME) {
        azr::run(argv)
    } else {
        kuhn::run(argv)
    }
}

/// Whether `argv` holds `--game game`.
fn names_game(argv: &[String], game: &str) -> bool {
    argv.windows(2).any(|w| w[0] == "--game" && w[1] == game)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_game_flag_is_found_anywhere() {
        let argv = |s: &str| -> Vec<String> { s.split(' ').map(String::from).collect() };
        assert!(names_game(
            &argv("--steps 3 --game tictactoe"),
            tictactoe::GAME
        ));
        assert!(names_game(
            &argv("--game absolute_zero --steps 3"),
            azr::GAME
        ));
        assert!(!names_game(&argv("--config tictactoe"), tictactoe::GAME));
        assert!(!names_game(&argv("--game"), tictactoe::GAME));
    }
}
