//! What the game modules share: move errors and outcomes.

use core::fmt;

/// Why a move from a completion was not played.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MoveError {
    /// No move could be read from the completion.
    Unparsable,
    /// The move was read but is not legal here (e.g. an occupied square).
    Illegal,
    /// The game is already over.
    GameOver,
}

impl fmt::Display for MoveError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MoveError::Unparsable => write!(f, "no move found in the completion"),
            MoveError::Illegal => write!(f, "illegal move"),
            MoveError::GameOver => write!(f, "the game is over"),
        }
    }
}

#[cfg(feature = "std")]
impl std::error::Error for MoveError {}

/// The result of a game from one player's side.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Outcome {
    /// The player won.
    Win,
    /// Nobody won.
    Draw,
    /// The player lost (or forfeited with an illegal move).
    Loss,
}

impl Outcome {
    /// +1, 0 or −1: the zero-sum reward a game gives the player.
    pub fn reward(self) -> f64 {
        match self {
            Outcome::Win => 1.0,
            Outcome::Draw => 0.0,
            Outcome::Loss => -1.0,
        }
    }
}
