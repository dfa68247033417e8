//! Tic-tac-toe with an exact minimax solver and a text protocol.
//!
//! Cells are numbered 1–9 row by row in text (0–8 in the API). The solver computes the
//! game-theoretic value `V(s) = max_{m} −V(s·m)` (negamax: +1 the player to move wins,
//! 0 draw, −1 loss) over all 3⁹ encodings, memoised, so the full game tree is solved
//! once (5 478 reachable positions).

use crate::game::{MoveError, Outcome};
use alloc::format;
use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;

/// A square's content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mark {
    /// Empty.
    Empty,
    /// X (moves first).
    X,
    /// O.
    O,
}

impl Mark {
    fn symbol(self) -> char {
        match self {
            Mark::Empty => '.',
            Mark::X => 'X',
            Mark::O => 'O',
        }
    }
}

const LINES: [[usize; 3]; 8] = [
    [0, 1, 2],
    [3, 4, 5],
    [6, 7, 8],
    [0, 3, 6],
    [1, 4, 7],
    [2, 5, 8],
    [0, 4, 8],
    [2, 4, 6],
];

/// A position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Board {
    /// The nine squares, row by row.
    pub cells: [Mark; 9],
}

impl Default for Board {
    fn default() -> Self {
        Board {
            cells: [Mark::Empty; 9],
        }
    }
}

impl Board {
    /// The empty board.
    pub fn new() -> Self {
        Self::default()
    }

    /// Who moves next (X when the counts are equal).
    pub fn to_move(&self) -> Mark {
        let x = self.cells.iter().filter(|&&c| c == Mark::X).count();
        let o = self.cells.iter().filter(|&&c| c == Mark::O).count();
        if x == o {
            Mark::X
        } else {
            Mark::O
        }
    }

    /// The winner, if a line is complete.
    pub fn winner(&self) -> Option<Mark> {
        LINES.iter().find_map(|l| {
            let m = self.cells[l[0]];
            (m != Mark::Empty && m == self.cells[l[1]] && m == self.cells[l[2]]).then_some(m)
        })
    }

    /// Whether the game is over (a winner or a full board).
    pub fn is_over(&self) -> bool {
        self.winner().is_some() || self.cells.iter().all(|&c| c != Mark::Empty)
    }

    /// Empty squares (0–8) while the game is not over.
    pub fn legal_moves(&self) -> Vec<usize> {
        if self.is_over() {
            return Vec::new();
        }
        (0..9).filter(|&i| self.cells[i] == Mark::Empty).collect()
    }

    /// The board after the player to move marks square `pos` (0–8).
    pub fn play(&self, pos: usize) -> Result<Board, MoveError> {
        if self.is_over() {
            return Err(MoveError::GameOver);
        }
        if pos >= 9 || self.cells[pos] != Mark::Empty {
            return Err(MoveError::Illegal);
        }
        let mut next = *self;
        next.cells[pos] = self.to_move();
        Ok(next)
    }

    fn code(&self) -> usize {
        self.cells
            .iter()
            .rev()
            .fold(0, |acc, &c| acc * 3 + c as usize)
    }

    /// Compact prompt: the rows, `.` for empty, then the mark to play: `"ttt X.O.X...O x:"`.
    /// The sentence form lists the rows and asks for a square 1–9.
    pub fn prompt(&self, words: bool) -> String {
        let cells: String = self.cells.iter().map(|c| c.symbol()).collect();
        let me = if self.to_move() == Mark::X { 'x' } else { 'o' };
        if words {
            format!(
                "Tic-tac-toe, squares 1-9 row by row. Rows: {} / {} / {}. You play {}. Which square?",
                &cells[0..3],
                &cells[3..6],
                &cells[6..9],
                me.to_ascii_uppercase()
            )
        } else {
            format!("ttt {cells} {me}:")
        }
    }
}

/// Read a square from a completion: the first digit 1–9 (returned as 0–8).
///
/// ```
/// use spar_tasks::tictactoe::parse_move;
/// assert_eq!(parse_move("I take 5, the centre"), Ok(4));
/// assert!(parse_move("zero 0").is_err());
/// ```
pub fn parse_move(completion: &str) -> Result<usize, MoveError> {
    completion
        .bytes()
        .find(|b| (b'1'..=b'9').contains(b))
        .map(|b| usize::from(b - b'1'))
        .ok_or(MoveError::Unparsable)
}

/// Exact solver: negamax values of every position, memoised by the base-3 encoding.
#[derive(Debug, Clone)]
pub struct Solver {
    /// `i8::MIN` = not yet computed; else the value for the player to move.
    memo: Vec<i8>,
}

impl Default for Solver {
    fn default() -> Self {
        Self::new()
    }
}

impl Solver {
    /// An empty memo (3⁹ bytes).
    pub fn new() -> Self {
        Solver {
            memo: vec![i8::MIN; 19_683],
        }
    }

    /// Value for the player to move under optimal play: +1 win, 0 draw, −1 loss.
    ///
    /// ```
    /// use spar_tasks::tictactoe::{Board, Solver};
    /// assert_eq!(Solver::new().value(&Board::new()), 0); // a draw
    /// ```
    pub fn value(&mut self, board: &Board) -> i8 {
        let code = board.code();
        if self.memo[code] != i8::MIN {
            return self.memo[code];
        }
        let v = if board.winner().is_some() {
            // The previous player completed a line: the player to move has lost.
            -1
        } else {
            let moves = board.legal_moves();
            if moves.is_empty() {
                0
            } else {
                let mut best = -1;
                for m in moves {
                    if let Ok(v) = self.move_value(board, m) {
                        best = best.max(v);
                    }
                }
                best
            }
        };
        self.memo[code] = v;
        v
    }

    /// Value of playing `pos` for the player to move, under optimal play after it: +1 win,
    /// 0 draw, −1 loss (the optimal moves are those whose value is [`Solver::value`]'s).
    /// An occupied square or a finished game is the error [`Board::play`] gives.
    ///
    /// ```
    /// use spar_tasks::tictactoe::{Board, Solver};
    /// let mut solver = Solver::new();
    /// let b = Board::new().play(4).unwrap(); // X in the centre
    /// assert_eq!(solver.move_value(&b, 0), Ok(0)); // O in a corner draws
    /// assert_eq!(solver.move_value(&b, 1), Ok(-1)); // O on an edge loses
    /// assert!(solver.move_value(&b, 4).is_err());
    /// ```
    pub fn move_value(&mut self, board: &Board, pos: usize) -> Result<i8, MoveError> {
        Ok(-self.value(&board.play(pos)?))
    }

    /// All moves that keep the optimal value.
    pub fn optimal_moves(&mut self, board: &Board) -> Vec<usize> {
        let target = self.value(board);
        board
            .legal_moves()
            .into_iter()
            .filter(|&m| self.move_value(board, m) == Ok(target))
            .collect()
    }

    /// The lowest-numbered optimal move; `None` when the game is over.
    pub fn best_move(&mut self, board: &Board) -> Option<usize> {
        self.optimal_moves(board).first().copied()
    }
}

/// A finished game between a text player and the solver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GameReport {
    /// Result for the text player (an illegal or unparsable move forfeits: `Loss`).
    pub outcome: Outcome,
    /// The first bad move, if one ended the game.
    pub error: Option<MoveError>,
    /// Squares played, in order (0–8).
    pub moves: Vec<usize>,
}

/// Play `player` (prompt → completion) as `side` (X or O) against the optimal solver with
/// compact prompts, and report the result.
///
/// ```
/// use spar_tasks::tictactoe::{play_against_solver, Mark, Solver};
/// use spar_tasks::Outcome;
/// let mut solver = Solver::new();
/// // A player that copies the solver's own choice draws.
/// let mut mirror = Solver::new();
/// let report = play_against_solver(&mut solver, Mark::X, |_, board| {
///     format!("{}", mirror.best_move(board).unwrap() + 1)
/// });
/// assert_eq!(report.outcome, Outcome::Draw);
/// ```
pub fn play_against_solver(
    solver: &mut Solver,
    side: Mark,
    mut player: impl FnMut(&str, &Board) -> String,
) -> GameReport {
    let mut board = Board::new();
    let mut moves = Vec::new();
    while !board.is_over() {
        let pos = if board.to_move() == side {
            let completion = player(&board.prompt(false), &board);
            match parse_move(&completion).and_then(|m| board.play(m).map(|_| m)) {
                Ok(m) => m,
                Err(e) => {
                    return GameReport {
                        outcome: Outcome::Loss,
                        error: Some(e),
                        moves,
                    }
                }
            }
        } else {
            match solver.best_move(&board) {
                Some(m) => m,
                None => break,
            }
        };
        moves.push(pos);
        board = match board.play(pos) {
            Ok(b) => b,
            Err(e) => {
                return GameReport {
                    outcome: Outcome::Loss,
                    error: Some(e),
                    moves,
                }
            }
        };
    }
    let outcome = match board.winner() {
        None => Outcome::Draw,
        Some(m) if m == side => Outcome::Win,
        Some(_) => Outcome::Loss,
    };
    GameReport {
        outcome,
        error: None,
        moves,
    }
}
