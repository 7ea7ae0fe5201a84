// GP fit and candidate-scoring speed on one backend (`--device=cpu|cuda`, default cpu):
// one log-marginal-likelihood-plus-gradient evaluation at d = 10, a whole MAP fit (CPU), and
// posterior + LogEI + top-16 selection for m candidates. GPU rows carry the FP64 floor
// (bench/bench_device.hpp) beside the time.
#include <benchmark/benchmark.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <string>

#include "backend/backend.hpp"
#include "backend/cuda_entry.hpp"
#include "bench_data.hpp"
#include "bench_device.hpp"
#include "gpbo/error.hpp"
#include "gpbo/gp.hpp"

namespace {

gpbo::Device g_device = gpbo::Device::cpu();

bool on_gpu() { return g_device.kind() == gpbo::Device::Kind::kCuda; }

std::unique_ptr<gpbo::Backend> make(bool float_scoring = false) {
  if (!on_gpu()) return gpbo::make_cpu_backend();
  gpbo::detail::CudaBackendOptions options;
  if (float_scoring) options.scoring = gpbo::ScorePrecision::kFloat;
  return gpbo::detail::make_cuda_backend(g_device, options);
}

gpbo::GpHyperparameters hyper(int d) {
  gpbo::GpHyperparameters h;
  h.lengthscales = Eigen::VectorXd::Constant(d, 0.5);
  h.outputscale = 1.0;
  h.noise = 1e-3;
  return h;
}

Eigen::VectorXd standardized(const Eigen::VectorXd& y) {
  const Eigen::VectorXd c = y.array() - y.mean();
  return c / c.norm() * std::sqrt(static_cast<double>(y.size()));
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

void BM_LmlGrad(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0)), d = static_cast<int>(state.range(1));
  const gpbo::bench::Data data = gpbo::bench::make_data(n, d);
  const Eigen::VectorXd y = standardized(data.y);
  const auto backend = make();
  const gpbo::GpHyperparameters h = hyper(d);
  Eigen::VectorXd grad;
  // Untimed warm-up: creates the GPU handles and fills the memory pool.
  backend->log_marginal_likelihood(gpbo::KernelType::kMatern52, h, data.X, y, &grad);
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) {
    benchmark::DoNotOptimize(
        backend->log_marginal_likelihood(gpbo::KernelType::kMatern52, h, data.X, y, &grad));
  }
  const double per_iter = seconds_since(t0) / static_cast<double>(state.iterations());
  state.counters["n"] = n;
  state.counters["d"] = d;
  // Cholesky n^3/3 + inverse 2n^3/3: about n^3 flops per evaluation.
  const double flops = static_cast<double>(n) * n * n;
  state.counters["GFLOP/s"] =
      benchmark::Counter(flops * 1e-9, benchmark::Counter::kIsIterationInvariantRate);
  if (on_gpu()) gpbo::bench::set_floor(state, flops, per_iter);
}

void BM_FitCold(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0)), d = static_cast<int>(state.range(1));
  const gpbo::bench::Data data = gpbo::bench::make_data(n, d);
  for (auto _ : state) {
    gpbo::GaussianProcess gp({}, g_device);
    gp.fit(data.X, data.y, 1);
    benchmark::DoNotOptimize(gp.log_posterior());
  }
  state.counters["n"] = n;
  state.counters["d"] = d;
}

/// Posterior, LogEI and the 16 best of m candidates (Backend::top_k), d = 10. Argument 2:
/// 1 = float32 scoring (GPU only).
void BM_ScoreTopK(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const int m = static_cast<int>(state.range(1));
  const bool f32 = state.range(2) != 0;
  constexpr int d = 10;
  const gpbo::bench::Data data = gpbo::bench::make_data(n, d);
  const Eigen::VectorXd y = standardized(data.y);
  const auto backend = make(f32);
  const auto factor = backend->factor(gpbo::KernelType::kMatern52, hyper(d), data.X, y);
  const Eigen::MatrixXd Xc = gpbo::bench::make_data(m, d, 11).X;
  gpbo::AcquisitionParams acq;
  acq.best_f = y.maxCoeff();
  Eigen::VectorXd values;
  backend->top_k(*factor, acq, Xc.topRows(std::min(m, 1000)), 16, &values);  // warm-up
  const auto t0 = std::chrono::steady_clock::now();
  for (auto _ : state) {
    benchmark::DoNotOptimize(backend->top_k(*factor, acq, Xc, 16, &values));
  }
  const double per_iter = seconds_since(t0) / static_cast<double>(state.iterations());
  state.counters["n"] = n;
  state.counters["m"] = m;
  state.counters["float32"] = f32;
  state.counters["candidates/s"] =
      benchmark::Counter(static_cast<double>(m), benchmark::Counter::kIsIterationInvariantRate);
  // The variance's triangular solve: m n^2 flops (the floor is FP64 even for the float path).
  if (on_gpu()) gpbo::bench::set_floor(state, static_cast<double>(m) * n * n, per_iter);
}

void register_benchmarks() {
  if (on_gpu()) {
    benchmark::RegisterBenchmark("BM_LmlGrad", BM_LmlGrad)
        ->ArgsProduct({{1000, 2000, 5000, 10000, 20000, 50000}, {10}})
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->MinTime(0.5);
    benchmark::RegisterBenchmark("BM_ScoreTopK", BM_ScoreTopK)
        ->ArgsProduct({{1000, 10000}, {10000, 100000, 1000000}, {0, 1}})
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->MinTime(0.5);
    return;
  }
  // The CPU side of the GPU cases, as far as a CPU finishes them in seconds: LML + gradient
  // up to n = 10,000 (n^3 flops; 50,000 would take ~15 min a call on 2 cores), scoring up to
  // m n^2 = 10^12 flops (10^6 candidates at n = 1,000; 10^4 at n = 10,000).
  benchmark::RegisterBenchmark("BM_LmlGrad", BM_LmlGrad)
      ->ArgsProduct({{250, 500, 1000, 2000, 5000, 10000}, {10}})
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
  benchmark::RegisterBenchmark("BM_FitCold", BM_FitCold)
      ->ArgsProduct({{250, 500, 1000}, {10}})
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime()
      ->Iterations(2);
  benchmark::RegisterBenchmark("BM_ScoreTopK", BM_ScoreTopK)
      ->ArgsProduct({{1000}, {10000, 100000, 1000000}, {0}})
      ->Args({10000, 10000, 0})
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime();
}

}  // namespace

int main(int argc, char** argv) {
  return gpbo::bench::run_main(argc, argv, &g_device, register_benchmarks);
}
