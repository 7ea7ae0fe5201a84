#include "numerics/lbfgsb.hpp"

#include <LBFGSB.h>

#include <cmath>
#include <limits>
#include <stdexcept>

#include "gpbo/error.hpp"

namespace gpbo {

BoxResult minimize_in_box(const BoxObjective& f, const Eigen::VectorXd& x0,
                          const Eigen::VectorXd& lb, const Eigen::VectorXd& ub,
                          const BoxOptions& options) {
  BoxResult best{x0.cwiseMax(lb).cwiseMin(ub), std::numeric_limits<double>::infinity(), 0};
  // Track the best evaluated point: LBFGS++ throws from its line search when it cannot make
  // progress (flat or non-smooth regions), and we still want what it found.
  auto tracked = [&](const Eigen::VectorXd& x, Eigen::VectorXd& g) {
    ++best.evaluations;
    double v = f(x, g);
    if (!std::isfinite(v) || !g.allFinite()) {
      v = std::numeric_limits<double>::infinity();
      g.setZero();
    } else if (v < best.value) {
      best.value = v;
      best.x = x;
    }
    return v;
  };
  LBFGSpp::LBFGSBParam<double> param;
  param.max_iterations = options.max_iterations;
  param.epsilon = options.epsilon;
  param.epsilon_rel = 0.0;
  param.past = 1;
  param.delta = options.delta;
  param.max_linesearch = 30;
  LBFGSpp::LBFGSBSolver<double> solver(param);
  Eigen::VectorXd x = best.x;
  double fx = 0.0;
  try {
    solver.minimize(tracked, x, fx, lb, ub);
  } catch (const Error&) {
    throw;  // from the objective (e.g. a failed device): not the solver's to absorb
  } catch (const std::exception&) {
    // The solver's own failures (line search): keep the best point seen so far (see above).
  }
  if (!std::isfinite(best.value)) {
    Eigen::VectorXd g(x0.size());
    best.value = f(best.x, g);
  }
  return best;
}

}  // namespace gpbo
