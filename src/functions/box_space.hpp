#pragma once
// The box of a test function or test problem: float parameters x0 .. x{d-1} between the
// bounds, and a point of it back as a vector.

#include <Eigen/Core>
#include <string>

#include "gpbo/space.hpp"

namespace gpbo {

/// Float parameters "x0" .. "x{d-1}", lower(i) <= xi <= upper(i).
Space box_space(const Eigen::VectorXd& lower, const Eigen::VectorXd& upper);

/// The values of x0 .. x{dim-1} in `p`. Throws InvalidArgument naming `what` (e.g. "test
/// function 'branin'") when one is missing or not a float.
Eigen::VectorXd box_point(const Params& p, int dim, const std::string& what);

}  // namespace gpbo
