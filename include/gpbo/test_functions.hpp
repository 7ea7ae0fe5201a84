#pragma once
/// Standard optimization test functions with their known optima, for demos, tests and the
/// regret benchmark. All are to be minimized.

#include <Eigen/Core>
#include <string>
#include <vector>

#include "gpbo/space.hpp"

namespace gpbo {

/// A test function on a box, with its known minimum value and one minimizer.
/// The largest dimension of a scalable test function (the trust region's range reaches 500).
constexpr int kMaxTestDim = 1000;

class TestFunction {
 public:
  /// Builds a function by name (case-insensitive): branin, hartmann3, hartmann6, ackley, levy,
  /// rosenbrock, styblinski-tang, michalewicz, griewank. `dim` = 0 picks the default
  /// dimension; fixed-dimension functions accept only their own. Throws InvalidArgument for an
  /// unknown name or an unsupported dimension.
  static TestFunction make(const std::string& name, int dim = 0);
  /// All names accepted by make().
  static std::vector<std::string> names();

  const std::string& name() const { return name_; }
  int dim() const { return static_cast<int>(lower_.size()); }
  const Eigen::VectorXd& lower() const { return lower_; }
  const Eigen::VectorXd& upper() const { return upper_; }
  /// The global minimum value f*.
  double optimal_value() const { return optimal_value_; }
  /// One global minimizer x* (f(x*) == f* up to the published precision).
  const Eigen::VectorXd& optimizer() const { return optimizer_; }
  /// Evaluates f at x (length dim(), in the original box).
  double operator()(const Eigen::Ref<const Eigen::VectorXd>& x) const;
  /// A space of float parameters x0 ... x{d-1} over the function's box.
  Space space() const;
  /// Reads x0 ... x{d-1} from a point of space().
  Eigen::VectorXd to_vector(const Params& p) const;

 private:
  enum class Kind {
    kBranin,
    kHartmann3,
    kHartmann6,
    kAckley,
    kLevy,
    kRosenbrock,
    kStyblinskiTang,
    kMichalewicz,
    kGriewank
  };
  Kind kind_ = Kind::kBranin;
  std::string name_;
  Eigen::VectorXd lower_, upper_, optimizer_;
  double optimal_value_ = 0.0;
};

}  // namespace gpbo
