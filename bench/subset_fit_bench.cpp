// Hyperparameters from a subset against the full fit (GpOptions::subset_above): held-out log
// predictive density and fit time on histories of Hartmann6 and Levy-10, with and without
// noise. One JSON line per case on stdout. Above n = 3,000 the full reference is capped at one
// start (as a first fit on a long history: 30 L-BFGS-B iterations on GpOptions::warm_only_above
// of the points, then at most warm_max_iterations on all; each evaluation is O(n^3)); the
// subset fit is not capped.
//
//   subset_fit_bench [n ...]            (default: 2000 5000)
//   GPBO_SUBSET_CASES=hartmann6:0,levy:0.1 subset_fit_bench 2000
//   GPBO_FIT_COMPARE=screen subset_fit_bench 500 1000 2000
//   GPBO_SUBSET_REFINE=3 subset_fit_bench 5000   (GpOptions::subset_refine_iterations)
//
// GPBO_FIT_COMPARE=screen compares instead the first fit of a long history as it runs by
// default (the starts screened on GpOptions::warm_only_above points, the winner refined on all
// of them) with every start run on all the points, both on the whole data (no subset).
//
// A history mimics a study's: half uniform points, half Gaussian around the optimum (sd 0.1 of
// the box), the values standardized to unit variance, noise with the given sd added. The fit
// maximizes, so y is the negated value. Held-out: 500 points drawn the same way.
// GPBO_FIT_UNIFORM=1 draws every point uniformly (a random history, as bench/optuna_speed.py's).
#include <Eigen/Core>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "gpbo/gp.hpp"
#include "gpbo/test_functions.hpp"

namespace {

struct History {
  Eigen::MatrixXd X;
  Eigen::VectorXd y;
};

History draw(const gpbo::TestFunction& f, int n, double noise, double scale, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<double> z(0.0, 1.0);
  const int d = f.dim();
  const bool uniform = std::getenv("GPBO_FIT_UNIFORM") != nullptr;
  const Eigen::VectorXd lo = f.lower(), width = f.upper() - f.lower();
  const Eigen::VectorXd opt = ((f.optimizer() - lo).array() / width.array()).matrix();
  History h{Eigen::MatrixXd(n, d), Eigen::VectorXd(n)};
  for (int i = 0; i < n; ++i) {
    for (int j = 0; j < d; ++j) {
      h.X(i, j) = i % 2 || uniform ? u(rng) : std::clamp(opt(j) + 0.1 * z(rng), 0.0, 1.0);
    }
    const Eigen::VectorXd x = lo + (h.X.row(i).transpose().array() * width.array()).matrix();
    h.y(i) = -f(x) / scale + noise * z(rng);
  }
  return h;
}

double log_density(const gpbo::GaussianProcess& gp, const History& test) {
  const gpbo::Prediction p = gp.predict(test.X);
  const double noise = gp.hyperparameters().noise * gp.y_scale() * gp.y_scale();
  double sum = 0.0;
  for (Eigen::Index i = 0; i < test.X.rows(); ++i) {
    const double var = p.stddev(i) * p.stddev(i) + noise, r = test.y(i) - p.mean(i);
    sum += -0.5 * (std::log(2.0 * M_PI * var) + r * r / var);
  }
  return sum / static_cast<double>(test.X.rows());
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> sizes;
  for (int i = 1; i < argc; ++i) sizes.push_back(std::atoi(argv[i]));
  if (sizes.empty()) sizes = {2000, 5000};
  std::string cases = "hartmann6:0,hartmann6:0.1,levy:0,levy:0.1";
  // Above this n the full fit runs one start of at most full_cap_iterations iterations.
  const int full_cap_above = 3000, full_cap_iterations = 30;
  if (const char* c = std::getenv("GPBO_SUBSET_CASES")) cases = c;
  std::stringstream list(cases);
  std::string item;
  while (std::getline(list, item, ',')) {
    const std::string name = item.substr(0, item.find(':'));
    const double noise = std::stod(item.substr(item.find(':') + 1));
    const gpbo::TestFunction f = gpbo::TestFunction::make(name, name == "levy" ? 10 : 0);
    // Unit-variance values: the scale of f over uniform points.
    const History probe = draw(f, 2000, 0.0, 1.0, 99);
    const double mean = probe.y.mean();
    const double scale = std::sqrt((probe.y.array() - mean).square().mean());
    for (int n : sizes) {
      const History train = draw(f, n, noise, scale, 1000 + static_cast<std::uint64_t>(n));
      const History test = draw(f, 500, noise, scale, 7);
      if (const char* c = std::getenv("GPBO_FIT_COMPARE"); c && std::string(c) == "screen") {
        gpbo::GpOptions screened, every_start;
        screened.subset_above = every_start.subset_above = 0;
        every_start.warm_only_above = n + 1;  // the starts never screened
        auto t0 = std::chrono::steady_clock::now();
        gpbo::GaussianProcess a(screened, gpbo::Device::cpu());
        a.fit(train.X, train.y, 1);
        const double a_s = seconds_since(t0);
        t0 = std::chrono::steady_clock::now();
        gpbo::GaussianProcess b(every_start, gpbo::Device::cpu());
        b.fit(train.X, train.y, 1);
        const double b_s = seconds_since(t0);
        std::printf(
            "{\"function\": \"%s\", \"d\": %d, \"noise_sd\": %g, \"n\": %d, \"screen_size\": %d, "
            "\"screened_log_density\": %.4f, \"every_start_log_density\": %.4f, "
            "\"screened_log_posterior\": %.2f, \"every_start_log_posterior\": %.2f, "
            "\"screened_fit_s\": %.2f, \"every_start_fit_s\": %.2f}\n",
            f.name().c_str(), f.dim(), noise, n, screened.warm_only_above, log_density(a, test),
            log_density(b, test), a.log_posterior(), b.log_posterior(), a_s, b_s);
        std::fflush(stdout);
        continue;
      }
      gpbo::GpOptions full_options, subset_options;
      full_options.subset_above = 0;    // never: the reference
      subset_options.subset_above = 1;  // always (the default starts above 2,000)
      if (const char* r = std::getenv("GPBO_SUBSET_REFINE")) {
        subset_options.subset_refine_iterations = std::atoi(r);
      }
      if (n > full_cap_above) {
        // The full reference costs O(n^3) per evaluation: one start, few iterations.
        full_options.n_starts = 1;
        full_options.max_iterations = full_cap_iterations;
      }
      auto t0 = std::chrono::steady_clock::now();
      gpbo::GaussianProcess part(subset_options, gpbo::Device::cpu());
      part.fit(train.X, train.y, 1);
      const double part_s = seconds_since(t0);
      // GPBO_SUBSET_ONLY=1: the subset fit alone (the full fit's figures are 0).
      const bool subset_only = std::getenv("GPBO_SUBSET_ONLY") != nullptr;
      t0 = std::chrono::steady_clock::now();
      gpbo::GaussianProcess full(full_options, gpbo::Device::cpu());
      if (!subset_only) full.fit(train.X, train.y, 1);
      const double full_s = seconds_since(t0);
      std::printf(
          "{\"function\": \"%s\", \"d\": %d, \"noise_sd\": %g, \"n\": %d, \"subset_size\": %d, "
          "\"subset_refine_iterations\": %d, \"subset_log_density\": %.4f, "
          "\"full_log_density\": %.4f, \"subset_fit_s\": %.2f, \"full_fit_s\": %.2f, "
          "\"full_capped\": %s}\n",
          f.name().c_str(), f.dim(), noise, n, subset_options.subset_size,
          subset_options.subset_refine_iterations, log_density(part, test),
          subset_only ? 0.0 : log_density(full, test), part_s, full_s,
          n > full_cap_above ? "true" : "false");
      std::fflush(stdout);
    }
  }
  return 0;
}
