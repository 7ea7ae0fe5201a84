// GP fit speed on the CPU: one log-marginal-likelihood-plus-gradient evaluation, and a whole
// MAP fit (cold, several starts), at d = 10.
#include <benchmark/benchmark.h>

#include "backend/backend.hpp"
#include "bench_data.hpp"
#include "gpbo/gp.hpp"

namespace {

void BM_LmlGrad(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0)), d = static_cast<int>(state.range(1));
  const gpbo::bench::Data data = gpbo::bench::make_data(n, d);
  const Eigen::VectorXd y = (data.y.array() - data.y.mean()) /
                            (data.y.array() - data.y.mean()).matrix().norm() * std::sqrt(n);
  const auto backend = gpbo::make_cpu_backend();
  gpbo::GpHyperparameters h;
  h.lengthscales = Eigen::VectorXd::Constant(d, 0.5);
  h.outputscale = 1.0;
  h.noise = 1e-3;
  Eigen::VectorXd grad;
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        backend->log_marginal_likelihood(gpbo::KernelType::kMatern52, h, data.X, y, &grad));
  }
  state.counters["n"] = n;
  state.counters["d"] = d;
  // Cholesky n^3/3 + inverse 2n^3/3: about n^3 flops per evaluation.
  state.counters["GFLOP/s"] = benchmark::Counter(static_cast<double>(n) * n * n * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_LmlGrad)
    ->ArgsProduct({{250, 500, 1000, 2000}, {10}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

void BM_FitCold(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0)), d = static_cast<int>(state.range(1));
  const gpbo::bench::Data data = gpbo::bench::make_data(n, d);
  for (auto _ : state) {
    gpbo::GaussianProcess gp({}, gpbo::Device::cpu());
    gp.fit(data.X, data.y, 1);
    benchmark::DoNotOptimize(gp.log_posterior());
  }
  state.counters["n"] = n;
  state.counters["d"] = d;
}
BENCHMARK(BM_FitCold)
    ->ArgsProduct({{250, 500, 1000}, {10}})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->Iterations(2);

}  // namespace

BENCHMARK_MAIN();
