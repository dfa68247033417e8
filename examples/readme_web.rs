//! README, "Run the browser demo": the demo's loop is this async trainer, which never blocks
//! (the page awaits each step and the GPU's read-backs; natively `block_on` drives it).
use spar_model::{block_on, CpuKernels};
use spar_train::{TrainConfig, TrainError, Trainer};

async fn train(sft_steps: u32) -> Result<f64, TrainError> {
    let mut cfg = TrainConfig::default();
    (
        cfg.model.n_embd,
        cfg.task.num_train_problems,
        cfg.task.num_eval_problems,
    ) = (16, 200, 20);
    (cfg.sft.max_steps, cfg.grpo.max_steps) = (sft_steps, 0);
    let mut trainer = Trainer::new(cfg, Box::new(CpuKernels::new))?;
    while trainer.step() < trainer.total_steps() {
        trainer.train_step().await?; // the page: one step per animation frame
    }
    Ok(trainer.evaluate().await?.accuracy)
}

/// Trains for five steps and prints the held-out accuracy.
pub fn main() -> Result<(), TrainError> {
    println!(
        "held-out accuracy after 5 SFT steps: {:.3}",
        block_on(train(5))?
    );
    Ok(())
}
