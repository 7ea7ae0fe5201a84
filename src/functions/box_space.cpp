#include "functions/box_space.hpp"

#include "gpbo/error.hpp"

namespace gpbo {

Space box_space(const Eigen::VectorXd& lower, const Eigen::VectorXd& upper) {
  Space s;
  for (Eigen::Index i = 0; i < lower.size(); ++i) {
    s.add_float("x" + std::to_string(i), lower[i], upper[i]);
  }
  return s;
}

Eigen::VectorXd box_point(const Params& p, int dim, const std::string& what) {
  Eigen::VectorXd x(dim);
  for (int i = 0; i < dim; ++i) {
    const std::string key = "x" + std::to_string(i);
    const auto it = p.find(key);
    const double* v = it == p.end() ? nullptr : std::get_if<double>(&it->second);
    if (v == nullptr) throw InvalidArgument(what + ": point lacks float parameter '" + key + "'");
    x[i] = *v;
  }
  return x;
}

}  // namespace gpbo
