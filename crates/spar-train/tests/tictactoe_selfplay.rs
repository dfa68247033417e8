//! Tic-tac-toe self-play (SPIRAL's role-conditioned advantages): the model learns to beat a
//! random player and to put its mass on the empty squares.
// These tests read configs, files or clocks: they need the `std` feature (on by default).
#![cfg(feature = "std")]

use spar_model::{block_on, CpuKernels};
use spar_tasks::tictactoe::{Board, Mark, Solver};
use spar_train::optim::OptimConfig;
use spar_train::tictactoe_selfplay::{SolverCreditMode, TicTacToeConfig, TicTacToeSelfPlay};

/// `configs/tictactoe_selfplay.toml`: the default with the first published runs' optimiser
/// (a constant rate 3e-3, β₂ 0.95), the recipe these bars were measured with.
fn shipped() -> TicTacToeConfig {
    TicTacToeConfig {
        optim: OptimConfig::first_wave(3e-3),
        ..TicTacToeConfig::default()
    }
}

/// The default config (1 × 32 GPT, 64 games per step, lr 3e-3, action masking with
/// legal_coef 0.3), 40 of its 300 steps. Observed against the random player (200 greedy
/// games, 100 per seat), loss rate start → step 40 → step 300: seed 0: 0.445 → 0.195 →
/// 0.16; seed 1: 0.395 → 0.20 → 0.255; seed 2: 0.43 → 0.205 → 0.155; win rate: seed 0:
/// 0.51 → 0.755 → 0.745; seed 1: 0.40 → 0.74 → 0.69; seed 2: 0.55 → 0.71 → 0.79. Most of
/// the gain comes in the first 20 steps, then it plateaus. The fraction of decisions whose
/// unrestricted most likely answer is illegal falls from 1.0 to ≈ 0.7 at step 40 (0.35–0.51
/// at step 300). Against the solver every seed still loses almost every game (draw rate
/// ≤ 0.06 at any evaluation): the bar is on the random player.
#[test]
fn self_play_learns_to_beat_a_random_player() {
    let cfg = TicTacToeConfig {
        seed: 0,
        max_steps: 40,
        ..shipped()
    };
    let mut sp = TicTacToeSelfPlay::new(cfg, CpuKernels::new()).unwrap();
    let before = block_on(sp.evaluate()).unwrap();
    let mut forfeits = 0.0;
    while sp.step() < sp.config().max_steps {
        let m = block_on(sp.train_step()).unwrap();
        assert!(m.loss.is_finite());
        assert!((m.x_win_fraction + m.o_win_fraction + m.draw_fraction - 1.0).abs() < 1e-12);
        forfeits += m.forfeit_fraction;
    }
    assert_eq!(forfeits, 0.0, "masked answers never forfeit");
    let after = block_on(sp.evaluate()).unwrap();
    let (b, a) = (before.vs_random, after.vs_random);
    assert!(
        b.illegal_argmax > 0.9,
        "a fresh model's argmax is rarely a square: {b:?}"
    );
    assert!(
        a.loss <= 0.30,
        "loss rate vs random {} → {}",
        b.loss,
        a.loss
    );
    assert!(
        a.loss <= b.loss - 0.10,
        "loss rate vs random {} → {}",
        b.loss,
        a.loss
    );
    assert!(
        a.win >= b.win + 0.10,
        "win rate vs random {} → {}",
        b.win,
        a.win
    );
    assert!(
        a.illegal_argmax < 0.9,
        "illegal argmax {} → {}",
        b.illegal_argmax,
        a.illegal_argmax
    );
    for r in [after.vs_solver, after.vs_random] {
        assert_eq!(r.games, 200);
        assert!((r.win + r.draw + r.loss - 1.0).abs() < 1e-12);
    }
    // Perfect play never loses: the solver's opponent never wins.
    assert_eq!(after.vs_solver.win, 0.0);
}

/// Without masking a fresh model answers with a non-square token almost always, and the
/// game ends by forfeit.
#[test]
fn without_masking_illegal_answers_forfeit() {
    let cfg = TicTacToeConfig {
        seed: 1,
        mask_illegal: false,
        games_per_step: 32,
        eval_games: 10,
        ..shipped()
    };
    let mut sp = TicTacToeSelfPlay::new(cfg, CpuKernels::new()).unwrap();
    let m = block_on(sp.train_step()).unwrap();
    assert!(m.forfeit_fraction > 0.8, "{m:?}");
    assert!(m.mean_game_length < 4.0, "{m:?}");
    let e = block_on(sp.evaluate()).unwrap();
    assert!(e.vs_random.forfeit > 0.8 && e.vs_random.forfeit <= e.vs_random.loss);
}

#[test]
fn a_bad_config_is_named() {
    let e = TicTacToeConfig::from_toml("games_per_step = 0\n").unwrap_err();
    assert!(e.to_string().contains("games_per_step"), "{e}");
    let e = TicTacToeConfig::from_toml("[model]\ncharset = \"0123\"\n").unwrap_err();
    assert!(e.to_string().contains("model.charset"), "{e}");
    let e =
        TicTacToeConfig::from_toml("[model]\ncharset = \"tXO.xo: 123456789\"\nn_positions = 12\n")
            .unwrap_err();
    assert!(e.to_string().contains("model.n_positions"), "{e}");
    let e = TicTacToeConfig::from_toml("gamez = 3\n").unwrap_err();
    assert!(e.to_string().contains("gamez"), "{e}");
}

#[test]
fn the_shipped_config_is_the_tested_default() {
    // The tested config: the default with the first published runs' optimiser spelled out
    // (the library's default follows Hugging Face's).
    let text = include_str!("../../../configs/tictactoe_selfplay.toml");
    assert_eq!(TicTacToeConfig::from_toml(text).unwrap(), shipped());
}

/// The opponent pool's games: `round(share × games_per_step)` each, none against a past
/// snapshot until the pool holds one, and all off by default.
#[test]
fn opponent_games_follow_the_shares() {
    let cfg = TicTacToeConfig {
        games_per_step: 10,
        solver_share: 0.3,
        random_share: 0.2,
        past_share: 0.4,
        ..shipped()
    };
    assert_eq!(cfg.opponent_games(false), [3, 2, 0]);
    assert_eq!(cfg.opponent_games(true), [3, 2, 4]);
    assert_eq!(shipped().opponent_games(true), [0, 0, 0]);
    let e = TicTacToeConfig::from_toml("solver_share = 0.6\nrandom_share = 0.5\n").unwrap_err();
    assert!(e.to_string().contains("past_share"), "{e}");
    let e = TicTacToeConfig::from_toml("past_share = 0.5\npool_every = 0\n").unwrap_err();
    assert!(e.to_string().contains("pool_size"), "{e}");
    let e = TicTacToeConfig::from_toml("solver_credit = -1.0\n").unwrap_err();
    assert!(e.to_string().contains("solver_credit"), "{e}");
    let e = TicTacToeConfig::from_toml("entropy_coef_end = -1.0\n").unwrap_err();
    assert!(e.to_string().contains("entropy_coef_end"), "{e}");
    let sched = TicTacToeConfig {
        max_steps: 11,
        entropy_coef: 0.1,
        entropy_coef_end: Some(0.0),
        ..shipped()
    };
    assert!((sched.entropy_coef_at(0) - 0.1).abs() < 1e-12);
    assert!((sched.entropy_coef_at(5) - 0.05).abs() < 1e-12);
    assert!(sched.entropy_coef_at(10).abs() < 1e-12);
}

/// Every opponent at once, the pool filled every two steps, the baselines kept per
/// opponent and the solver's per-move credit on: the step's games are split as configured, the model's own games keep both
/// seats, and a run stopped at step 3 (pool snapshots, baselines, stream saved through the
/// checkpoint files) resumes to the uninterrupted run's metrics and state bit for bit.
#[test]
fn the_opponent_pool_resumes_exactly() {
    use spar_train::native::{load_loop_checkpoint, save_loop_checkpoint};
    let cfg = TicTacToeConfig {
        seed: 3,
        max_steps: 6,
        games_per_step: 12,
        eval_games: 4,
        solver_share: 0.25,
        random_share: 0.25,
        past_share: 0.25,
        pool_size: 2,
        pool_every: 2,
        opponent_baselines: true,
        solver_credit: 0.5,
        entropy_coef: 0.05,
        entropy_coef_end: Some(0.0),
        ..shipped()
    };
    let new = || TicTacToeSelfPlay::new(cfg.clone(), CpuKernels::new()).unwrap();
    let mut full = new();
    let expected: Vec<_> = (0..6)
        .map(|_| block_on(full.train_step()).unwrap())
        .collect();
    let pools: Vec<usize> = expected.iter().map(|m| m.pool).collect();
    assert_eq!(pools, [0, 0, 1, 1, 2, 2]);
    assert_eq!(expected[0].opponent_games, [3, 3, 0]);
    assert_eq!(expected[2].opponent_games, [3, 3, 3]);
    let end = block_on(full.snapshot()).unwrap();
    assert_eq!(end.tensors.len(), 2);
    assert_eq!(end.state.baselines.len(), 8);

    let mut first = new();
    let mut got: Vec<_> = (0..3)
        .map(|_| block_on(first.train_step()).unwrap())
        .collect();
    let snap = block_on(first.snapshot()).unwrap();
    assert_eq!(snap.state.pool, 1);
    let d = std::env::temp_dir().join(format!("spar-ttt-pool-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    let model = *first.model().config();
    save_loop_checkpoint(&d, 3, &model, first.vocab(), &cfg.to_toml(), &snap).unwrap();
    let snap = load_loop_checkpoint(&d).unwrap().snapshot;
    let _ = std::fs::remove_dir_all(&d);
    let mut second = new();
    second.restore(&snap).unwrap();
    got.extend((3..6).map(|_| block_on(second.train_step()).unwrap()));
    assert_eq!(got, expected);
    assert_eq!(block_on(second.snapshot()).unwrap(), end);

    // A checkpoint whose state names more pool snapshots than it holds is refused.
    let mut bad = snap.clone();
    bad.state.pool = 2;
    let e = new().restore(&bad).unwrap_err();
    assert!(e.to_string().contains("pool"), "{e}");
}

/// The fast bar for the opponent pool: `configs/tictactoe_selfplay_solver.toml` (every game
/// against the exact solver, the rate decaying linearly), seed 0, its 300 steps. Observed
/// (200 greedy games against the solver, 100 per seat): draw 0.035 → 0.44, games lost as X
/// 100 → 21, as O 93 → 91 (seeds 1 and 2: draw 0.435 / 0.465, lost as X 16 / 10). The
/// shipped self-play recipe draws 0.00–0.05 on seeds 0–2 at every evaluation up to step
/// 300 and loses at least 92 games as X. Goal not met: no seed stops losing to the solver.
#[test]
fn games_against_the_solver_teach_draws_as_x() {
    let text = include_str!("../../../configs/tictactoe_selfplay_solver.toml");
    let cfg = TicTacToeConfig::from_toml(text).unwrap();
    assert_eq!((cfg.seed, cfg.max_steps, cfg.solver_share), (0, 300, 1.0));
    let mut sp = TicTacToeSelfPlay::new(cfg, CpuKernels::new()).unwrap();
    let before = block_on(sp.evaluate()).unwrap().vs_solver;
    while sp.step() < sp.config().max_steps {
        let m = block_on(sp.train_step()).unwrap();
        assert_eq!(
            m.opponent_games,
            [64, 0, 0],
            "every game against the solver"
        );
    }
    let after = block_on(sp.evaluate()).unwrap().vs_solver;
    assert_eq!(after.win, 0.0);
    assert!(before.draw < 0.1 && before.lost_as_x > 90, "{before:?}");
    assert!(
        after.draw >= 0.30,
        "draw rate vs solver {} → {}",
        before.draw,
        after.draw
    );
    assert!(
        after.lost_as_x <= 35,
        "games lost as X {} → {}",
        before.lost_as_x,
        after.lost_as_x
    );
}

/// The solver's per-move credit changes the update, not the games: from the same seed the
/// first step plays the same games with and without it, and the loss differs (self-play
/// from a fresh model makes mistakes, each given a negative credit).
#[test]
fn solver_credit_changes_the_update_only() {
    let step = |solver_credit: f64| {
        let cfg = TicTacToeConfig {
            seed: 4,
            games_per_step: 16,
            eval_games: 2,
            solver_credit,
            ..shipped()
        };
        let mut sp = TicTacToeSelfPlay::new(cfg, CpuKernels::new()).unwrap();
        block_on(sp.train_step()).unwrap()
    };
    let (off, on) = (step(0.0), step(1.0));
    assert_eq!(off.x_win_fraction, on.x_win_fraction);
    assert_eq!(off.mean_game_length, on.mean_game_length);
    assert_eq!(off.baselines, on.baselines);
    assert!(on.loss != off.loss, "{} vs {}", on.loss, off.loss);
}

/// The all-squares credits change the update, not the games, like the played credit; and
/// they need masking and a positive `solver_credit` (the error names the field).
#[test]
fn all_squares_credit_changes_the_update_only() {
    let step = |solver_credit_mode| {
        let cfg = TicTacToeConfig {
            seed: 4,
            games_per_step: 16,
            eval_games: 2,
            solver_credit: 1.0,
            solver_credit_mode,
            ..shipped()
        };
        let mut sp = TicTacToeSelfPlay::new(cfg, CpuKernels::new()).unwrap();
        let m = block_on(sp.train_step()).unwrap();
        let mut params = vec![0.0f32; sp.model().layout().len()];
        block_on(sp.model().read_params(&mut params)).unwrap();
        (m, params)
    };
    let (played, p0) = step(SolverCreditMode::Played);
    for mode in [SolverCreditMode::Expected, SolverCreditMode::Imitate] {
        let (m, p) = step(mode);
        assert_eq!(played.x_win_fraction, m.x_win_fraction, "{mode:?}");
        assert_eq!(played.mean_game_length, m.mean_game_length, "{mode:?}");
        assert!(
            m.loss.is_finite() && m.loss != played.loss,
            "{mode:?}: {}",
            m.loss
        );
        assert!(
            p != p0,
            "{mode:?} leaves the parameters of the played credit"
        );
    }
    for text in [
        "solver_credit = 1.0\nsolver_credit_mode = \"expected\"\nmask_illegal = false\n",
        "solver_credit_mode = \"imitate\"\n",
    ] {
        let e = TicTacToeConfig::from_toml(text).unwrap_err();
        assert!(e.to_string().contains("solver_credit_mode"), "{e}");
    }
}

/// Lines lost and mistakes of the model's greedy play against every optimal line of the
/// solver, counted by a plain recursion over the game tree (the library counts ply by ply
/// in batches): `(lines, lost)` from `board` for the model's mark `me`.
fn lines_from(
    sp: &mut TicTacToeSelfPlay<CpuKernels>,
    solver: &mut Solver,
    board: Board,
    me: Mark,
) -> (usize, usize) {
    if board.is_over() {
        let lost = board.winner().is_some_and(|w| w != me);
        return (1, lost as usize);
    }
    let moves = if board.to_move() == me {
        let p = &block_on(sp.move_distributions(&[board], 0.0)).unwrap()[0];
        let digit = |m: usize| sp.vocab().encode(&format!("{}", m + 1))[0] as usize;
        let legal = board.legal_moves();
        let best =
            legal.iter().copied().fold(
                legal[0],
                |b, m| if p[digit(m)] > p[digit(b)] { m } else { b },
            );
        vec![best]
    } else {
        solver.optimal_moves(&board)
    };
    moves.into_iter().fold((0, 0), |(l, w), m| {
        let (l2, w2) = lines_from(sp, solver, board.play(m).unwrap(), me);
        (l + l2, w + w2)
    })
}

/// The exhaustive evaluation agrees with a recursion over the tree, for a fresh model (which
/// loses lines in both seats) and one trained a few steps, and its counts are consistent.
#[test]
fn the_worst_case_counts_every_optimal_line() {
    let cfg = TicTacToeConfig {
        seed: 1,
        games_per_step: 16,
        eval_games: 2,
        ..shipped()
    };
    let mut sp = TicTacToeSelfPlay::new(cfg, CpuKernels::new()).unwrap();
    let mut solver = Solver::new();
    for round in 0..2 {
        let w = block_on(sp.worst_case()).unwrap();
        for (seat, me) in [Mark::X, Mark::O].into_iter().enumerate() {
            let (lines, lost) = lines_from(&mut sp, &mut solver, Board::new(), me);
            assert_eq!(
                (w.lines[seat], w.lost[seat]),
                (lines, lost),
                "round {round}, {me:?}"
            );
            assert!(w.mistakes[seat] <= w.positions[seat] && w.positions[seat] > 0);
            assert_eq!(
                w.lost[seat] > 0,
                w.mistakes[seat] > 0,
                "round {round}, {me:?}"
            );
        }
        if round == 0 {
            assert!(
                w.lost[0] + w.lost[1] > 0,
                "a fresh model loses some line: {w:?}"
            );
        }
        for _ in 0..5 {
            block_on(sp.train_step()).unwrap();
        }
    }
}
