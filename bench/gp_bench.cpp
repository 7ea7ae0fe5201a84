// GP fit and candidate-scoring speed on one backend (`--device=cpu|cuda`, default cpu):
// one log-marginal-likelihood-plus-gradient evaluation at d = 10, a whole MAP fit (CPU), and
// posterior + LogEI + top-16 selection for m candidates. GPU rows carry the FP64 floor
// (bench/bench_device.hpp) beside the time.
#include <benchmark/benchmark.h>

#include <algorithm>
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

/// The value of LML + gradient at n, checked (one untimed-worthy iteration): the n points are
/// `parts` independent subsets (point i in part i % parts, its coordinate 0 shifted by 40
/// lengthscales per part, so that the kernel between parts is below 1e-30 and K is a permuted
/// block-diagonal matrix), hence LML(all) = sum of LML(part), and the gradient likewise. At
/// n = 50,000 the whole goes through cuSOLVER's 64-bit API and the parts (10,000 points) through
/// the 32-bit one, which the agreement tests check against the CPU: a wrong factor fails the
/// run (SkipWithError, then exit 3). Counters: lml_rel_err, grad_rel_err.
void BM_LmlGradCheck(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0)), d = static_cast<int>(state.range(1));
  const int parts = static_cast<int>(state.range(2));
  constexpr double kLmlTol = 1e-7, kGradTol = 1e-5;
  gpbo::bench::Data data = gpbo::bench::make_data(n, d);
  const gpbo::GpHyperparameters h = hyper(d);
  for (int i = 0; i < n; ++i) data.X(i, 0) += 40.0 * h.lengthscales(0) * (i % parts);
  const Eigen::VectorXd y = standardized(data.y);
  const auto backend = make();
  const auto kernel = gpbo::KernelType::kMatern52;
  for (auto _ : state) {
    // The parts first: the memory pool then reuses their blocks for the whole.
    double lml_parts = 0.0;
    Eigen::VectorXd grad_parts = Eigen::VectorXd::Zero(d + 3), grad;
    for (int p = 0; p < parts; ++p) {
      const int size = (n - p + parts - 1) / parts;
      Eigen::MatrixXd Xp(size, d);
      Eigen::VectorXd yp(size);
      for (int k = 0; k < size; ++k) {
        Xp.row(k) = data.X.row(p + k * parts);
        yp(k) = y(p + k * parts);
      }
      lml_parts += backend->log_marginal_likelihood(kernel, h, Xp, yp, &grad);
      grad_parts += grad;
    }
    const double lml = backend->log_marginal_likelihood(kernel, h, data.X, y, &grad);
    const double lml_err = std::abs(lml - lml_parts) / std::max(1.0, std::abs(lml_parts));
    const double grad_err = (grad - grad_parts).cwiseAbs().maxCoeff() /
                            std::max(1e-300, grad_parts.cwiseAbs().maxCoeff());
    state.counters["lml_rel_err"] = lml_err;
    state.counters["grad_rel_err"] = grad_err;
    if (!(lml_err <= kLmlTol && grad_err <= kGradTol)) {
      char what[256];
      std::snprintf(what, sizeof what,
                    "wrong value at n = %d: LML %.17g vs %.17g over %d parts (rel. error %.3g), "
                    "gradient rel. error %.3g",
                    n, lml, lml_parts, parts, lml_err, grad_err);
      state.SkipWithError(what);
      gpbo::bench::check_failed() = true;
      break;
    }
  }
  state.counters["n"] = n;
  state.counters["d"] = d;
  state.counters["parts"] = parts;
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
    // The checks of the large cases run before their timings (bench/device_check.sh runs both
    // in one step): at 20,000 the 32-bit API throughout, at 50,000 the 64-bit one.
    benchmark::RegisterBenchmark("BM_LmlGradCheck", BM_LmlGradCheck)
        ->Args({20000, 10, 2})
        ->Args({50000, 10, 5})
        ->Unit(benchmark::kMillisecond)
        ->UseRealTime()
        ->Iterations(1);
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
  benchmark::RegisterBenchmark("BM_LmlGradCheck", BM_LmlGradCheck)
      ->Args({2000, 10, 2})
      ->Unit(benchmark::kMillisecond)
      ->UseRealTime()
      ->Iterations(1);
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
