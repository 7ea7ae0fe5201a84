#include <cmath>
#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/function_run.hpp"
#include "cli/problem_run.hpp"
#include "gpbo/error.hpp"
#include "gpbo/test_functions.hpp"

namespace gpbo::cli {

int default_budget(const std::string& function) {
  const TestFunction f = TestFunction::make(function);
  if (f.name() == "branin") return 30;
  if (f.name() == "hartmann6") return 60;
  if (f.name() == "ackley" || f.name() == "levy") return 100;
  if (f.name() == "rosenbrock") return 80;
  return 50;
}

namespace {

int run_optimize_problem(const OptimizeArgs& args) {
  const TestProblem p = TestProblem::make(args.problem, args.dim);
  const int budget = args.budget > 0 ? args.budget : default_problem_budget(args.problem);
  OptionValues values;
  args.engine.apply(&values);
  const ProblemRun run = run_on_problem(p, "gpbo", budget, args.seed, values.study, args.batch);
  const bool several = p.metrics().multi_objective();
  const auto number = [](double x) {
    return std::isfinite(x) ? nlohmann::json(x) : nlohmann::json(nullptr);
  };
  if (args.json) {
    nlohmann::json j = {{"problem", p.name()},
                        {"dim", p.dim()},
                        {"budget", budget},
                        {"q", args.batch},
                        {"seed", args.seed},
                        {several ? "hypervolume" : "best_feasible_value", number(run.result)},
                        {"best_known", number(p.best_known())},
                        {"regret", number(run.regret)},
                        {"feasible", run.feasible},
                        {"seconds_total", run.seconds_total},
                        {"seconds_per_ask", run.seconds_per_ask},
                        {"device", run.device}};
    std::cout << j.dump() << "\n";
    return kOk;
  }
  std::printf("problem      %s (d = %d, %zu objective%s, %zu constraint%s)\n", p.name().c_str(),
              p.dim(), p.metrics().objectives.size(), several ? "s" : "",
              p.metrics().constraints.size(), p.metrics().constraints.size() == 1 ? "" : "s");
  std::printf("budget       %d evaluations in rounds of %d, seed %llu, device %s\n", budget,
              args.batch, static_cast<unsigned long long>(args.seed), run.device.c_str());
  std::printf("%s %.10g   (best known %.10g)\n", several ? "hypervolume " : "best value  ",
              run.result, p.best_known());
  std::printf("regret       %.4g\n", run.regret);
  std::printf("feasible     %d of %d evaluations\n", run.feasible, budget);
  std::printf("time         %.3f s total, %.4f s per ask (median of the last 10)\n",
              run.seconds_total, run.seconds_per_ask);
  return kOk;
}

}  // namespace

int run_optimize(const OptimizeArgs& args) {
  if (args.function.empty() == args.problem.empty()) {
    throw InvalidArgument("optimize needs one of --function or --problem");
  }
  if (!args.problem.empty()) return run_optimize_problem(args);
  const TestFunction f = TestFunction::make(args.function, args.dim);
  const int budget = args.budget > 0 ? args.budget : default_budget(args.function);
  OptionValues values;
  args.engine.apply(&values);
  const FunctionRun run = run_on_function(f, "gpbo", budget, args.seed, values.study, args.batch);
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
