//! Tic-tac-toe: the minimax solver's value and its play.

use proptest::prelude::*;
use rand_chacha::ChaCha8Rng;
use rand_core::{RngCore, SeedableRng};
use spar_tasks::tictactoe::*;
use spar_tasks::{MoveError, Outcome};

#[test]
fn empty_board_is_a_draw_and_known_positions() {
    let mut s = Solver::new();
    assert_eq!(s.value(&Board::new()), 0);
    // X in a corner, O on an adjacent edge: X wins with best play.
    let b = Board::new().play(0).unwrap().play(1).unwrap();
    assert_eq!(s.value(&b), 1);
    // X to move with two in a row and the third square free: immediate win is optimal.
    let b = [0, 3, 1, 4]
        .iter()
        .fold(Board::new(), |b, &m| b.play(m).unwrap());
    assert_eq!(s.value(&b), 1);
    assert_eq!(s.best_move(&b), Some(2));
}

/// Every game where the solver plays `side` and the opponent tries every legal move at
/// each of its turns; returns the number of games, asserting the solver never loses.
fn exhaustive(solver: &mut Solver, board: Board, side: Mark) -> usize {
    if board.is_over() {
        assert_ne!(
            board.winner().map(|w| w != side),
            Some(true),
            "solver lost: {board:?}"
        );
        return 1;
    }
    if board.to_move() == side {
        let m = solver.best_move(&board).unwrap();
        exhaustive(solver, board.play(m).unwrap(), side)
    } else {
        board
            .legal_moves()
            .into_iter()
            .map(|m| exhaustive(solver, board.play(m).unwrap(), side))
            .sum()
    }
}

#[test]
fn solver_never_loses_against_exhaustive_opponents() {
    let mut s = Solver::new();
    let as_x = exhaustive(&mut s, Board::new(), Mark::X);
    let as_o = exhaustive(&mut s, Board::new(), Mark::O);
    assert!(as_x > 50 && as_o > 100, "{as_x} {as_o}");
}

#[test]
fn solver_never_loses_against_random_players_and_beats_them_often() {
    let mut s = Solver::new();
    let mut rng = ChaCha8Rng::seed_from_u64(9);
    let mut wins = 0;
    for game in 0..400 {
        let side = if game % 2 == 0 { Mark::O } else { Mark::X };
        // The text player is uniformly random over legal squares; from its side the solver
        // must never lose, so the player never wins.
        let report = play_against_solver(&mut s, side, |_, b| {
            let moves = b.legal_moves();
            format!("{}", moves[rng.next_u32() as usize % moves.len()] + 1)
        });
        assert_ne!(report.outcome, Outcome::Win);
        assert_eq!(report.error, None);
        wins += usize::from(report.outcome == Outcome::Loss);
    }
    assert!(
        wins > 200,
        "the solver beat a random player only {wins} times in 400"
    );
}

#[test]
fn illegal_and_unparsable_moves_forfeit() {
    let mut s = Solver::new();
    let r = play_against_solver(&mut s, Mark::X, |_, _| "nothing".into());
    assert_eq!(
        (r.outcome, r.error),
        (Outcome::Loss, Some(MoveError::Unparsable))
    );
    // Always answering square 5: legal first, then occupied.
    let r = play_against_solver(&mut s, Mark::X, |_, _| "5".into());
    assert_eq!(
        (r.outcome, r.error),
        (Outcome::Loss, Some(MoveError::Illegal))
    );
    assert_eq!(r.moves.len(), 2);
    let full = [0, 1, 2, 4, 3, 5, 7, 6, 8]
        .iter()
        .fold(Board::new(), |b, &m| b.play(m).unwrap());
    assert_eq!(full.play(0), Err(MoveError::GameOver));
    assert_eq!(Board::new().prompt(false), "ttt ......... x:");
    assert!(Board::new().prompt(true).contains("You play X"));
}

proptest! {
    #[test]
    fn parse_move_never_panics(s in ".{0,40}") {
        if let Ok(m) = parse_move(&s) {
            prop_assert!(m < 9);
        }
    }

    #[test]
    fn optimal_moves_keep_the_value(moves in proptest::collection::vec(0usize..9, 0..8)) {
        let mut s = Solver::new();
        let mut b = Board::new();
        for m in moves {
            if let Ok(next) = b.play(m) { b = next; }
        }
        if !b.is_over() {
            let v = s.value(&b);
            for m in s.optimal_moves(&b) {
                prop_assert_eq!(-s.value(&b.play(m).unwrap()), v);
            }
        }
    }
}
