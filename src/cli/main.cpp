// gpbo: command-line front door. Errors become one line on stderr and an exit code
// (cli::report_error, service/error_table.hpp).
#include <iostream>

#include "cli/commands.hpp"
#include "cli/store_commands.hpp"
#include "gpbo/study.hpp"
#include "gpbo/test_functions.hpp"

int main(int argc, char** argv) {
  using namespace gpbo::cli;
  CLI::App app{"gpbo: GPU-accelerated Bayesian optimization"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "gpbo 0.1.0");

  OptimizeArgs opt;
  CLI::App* optimize = app.add_subcommand(
      "optimize",
      "Run a whole study on a test function (or problem); print the best value and its regret");
  CLI::Option* function =
      optimize->add_option("--function,-f", opt.function, "Test function (branin, hartmann6, ...)");
  optimize
      ->add_option("--problem,-p", opt.problem,
                   "Test problem with several metrics (branincurrin, zdt1, dtlz2, c2dtlz2, "
                   "constrained-hartmann6, gramacy)")
      ->excludes(function);
  optimize->add_option("--dim,-d", opt.dim, "Dimension of a scalable function (0: default)")
      ->check(CLI::Range(0, gpbo::kMaxTestDim));
  optimize->add_option("--budget,-n", opt.budget, "Evaluations (0: the benchmark budget)")
      ->check(CLI::NonNegativeNumber);
  optimize->add_option("--seed,-s", opt.seed, "Random seed");
  optimize->add_option("--batch,-q", opt.batch, "Evaluations per round (ask q, tell q)")
      ->check(CLI::Range(1, gpbo::kMaxAskBatch));
  optimize->add_flag("--json", opt.json, "Print one JSON object");
  opt.engine.add_to(*optimize, is_engine_option);

  BenchArgs bench;
  CLI::App* bench_cmd = app.add_subcommand(
      "bench", "Regret benchmark: gpbo and baselines over functions x seeds (shared protocol)");
  bench_cmd
      ->add_option("--functions", bench.functions,
                   "Functions (default: branin hartmann6 ackley levy rosenbrock)")
      ->delimiter(',');
  bench_cmd
      ->add_option("--problems", bench.problems,
                   "Test problems with several metrics (hypervolume, or best feasible value)")
      ->delimiter(',');
  bench_cmd->add_option("--methods", bench.methods, "Methods: gpbo, sobol")->delimiter(',');
  bench_cmd->add_option("--seeds", bench.seeds, "Seeds per function")->check(CLI::PositiveNumber);
  bench_cmd->add_option("--first-seed", bench.first_seed, "First seed");
  bench_cmd->add_option("--budget", bench.budget, "Override every budget (0: protocol)")
      ->check(CLI::NonNegativeNumber);
  bench_cmd->add_option("--dim,-d", bench.dim, "Dimension of the scalable functions (0: default)")
      ->check(CLI::Range(0, gpbo::kMaxTestDim));
  bench_cmd->add_option("--batch,-q", bench.batch, "Evaluations per round")
      ->check(CLI::Range(1, gpbo::kMaxAskBatch));
  bench_cmd->add_option("--jsonl", bench.jsonl, "Write one JSON object per run to this file");
  bench.engine.add_to(*bench_cmd, is_engine_option);

  const std::function<int()> run_store_command = add_store_commands(app);
  const std::function<int()> run_serve_command = add_serve_command(app);
  const std::function<int()> run_token_command = add_token_command(app);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int rc = app.exit(e);
    return rc == 0 ? kOk : kUsage;
  }
  try {
    if (*optimize) return run_optimize(opt);
    if (*bench_cmd) return run_bench(bench);
    const int rc = run_store_command();
    if (rc >= 0) return rc;
    const int serve_rc = run_serve_command();
    if (serve_rc >= 0) return serve_rc;
    const int token_rc = run_token_command();
    if (token_rc >= 0) return token_rc;
  } catch (const std::exception& e) {
    return report_error(e);
  }
  return kUsage;
}
