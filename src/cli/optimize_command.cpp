#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/function_run.hpp"
#include "gpbo/error.hpp"
#include "gpbo/test_functions.hpp"

namespace gpbo::cli {

void EngineArgs::add_to(CLI::App& app) {
  app.add_option("--device", device, "auto, cpu, cuda or cuda:N")->capture_default_str();
  app.add_option("--score-precision", score_precision,
                 "double or float: float32 candidate scoring on a GPU (the CPU scores in double)")
      ->capture_default_str();
  app.add_option("--acquisition", acquisition, "logei, ei, ucb or pi")->capture_default_str();
  app.add_option("--kernel", kernel, "matern52 or rbf")->capture_default_str();
  app.add_option("--n-initial", n_initial, "Initial Sobol design size (0: grows with d)")
      ->check(CLI::NonNegativeNumber);
  app.add_option("--output-warping", warp, "Output warping before the GP: halfrank, log, none")
      ->capture_default_str();
  app.add_option("--warp-strength", warp_strength, "Strength of the log warping (> 1)")
      ->capture_default_str();
  app.add_option("--batch-method", batch_method, "auto, greedy, qlognei or thompson")
      ->capture_default_str();
  app.add_option("--strategy", strategy,
                 "global, trust-region or auto (trust region from 40 parameters)")
      ->capture_default_str();
  app.add_option("--trust-regions", trust_regions,
                 "Trust regions kept at once (TuRBO-m; more than 1 needs Thompson batches)")
      ->check(CLI::Range(1, kMaxTrustRegions))
      ->capture_default_str();
}

StudyOptions EngineArgs::study_options() const {
  StudyOptions o;
  o.device = Device::parse(device);
  o.score_precision = parse_score_precision(score_precision);
  o.acquisition = parse_acquisition(acquisition);
  o.gp.kernel = parse_kernel(kernel);
  o.n_initial = n_initial;
  o.output_warping = parse_output_warping(warp);
  o.warp_strength = warp_strength;
  o.batch_method = parse_batch_method(batch_method);
  o.strategy = parse_strategy(strategy);
  o.trust_region.n_regions = trust_regions;
  return o;
}

int default_budget(const std::string& function) {
  const TestFunction f = TestFunction::make(function);
  if (f.name() == "branin") return 30;
  if (f.name() == "hartmann6") return 60;
  if (f.name() == "ackley" || f.name() == "levy") return 100;
  if (f.name() == "rosenbrock") return 80;
  return 50;
}

int run_optimize(const OptimizeArgs& args) {
  const TestFunction f = TestFunction::make(args.function, args.dim);
  const int budget = args.budget > 0 ? args.budget : default_budget(args.function);
  const FunctionRun run =
      run_on_function(f, "gpbo", budget, args.seed, args.engine.study_options(), args.batch);
  if (args.json) {
    nlohmann::json j = {{"function", f.name()},
                        {"dim", f.dim()},
                        {"budget", budget},
                        {"q", args.batch},
                        {"strategy", run.strategy},
                        {"seed", args.seed},
                        {"best_value", run.best_value},
                        {"optimal_value", f.optimal_value()},
                        {"regret", run.regret},
                        {"seconds_total", run.seconds_total},
                        {"seconds_per_ask", run.seconds_per_ask},
                        {"device", run.device}};
    std::cout << j.dump() << "\n";
  } else {
    std::printf("function     %s (d = %d)\n", f.name().c_str(), f.dim());
    std::printf("budget       %d evaluations in rounds of %d, seed %llu, device %s\n", budget,
                args.batch, static_cast<unsigned long long>(args.seed), run.device.c_str());
    std::printf("best value   %.10g   (optimum %.10g)\n", run.best_value, f.optimal_value());
    std::printf("regret       %.4g\n", run.regret);
    std::printf("strategy     %s\n", run.strategy.c_str());
    std::printf("time         %.3f s total, %.4f s per ask (median of the last 10)\n",
                run.seconds_total, run.seconds_per_ask);
  }
  return kOk;
}

}  // namespace gpbo::cli
