#pragma once
/// Search spaces: typed parameters, their JSON form, and the encoding to the unit cube.

#include <Eigen/Core>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace gpbo {

/// Int parameters' bounds and values lie within +-2^53, where doubles are exact integers.
inline constexpr double kMaxExactInt = 9007199254740992.0;  // 2^53

/// The kind of a parameter.
enum class ParamType { kFloat, kInt, kCategorical };

/// When a parameter is active (issue 20): its parent's value is one of `in` (a categorical
/// parent) or lies in [low, high] (an int parent; either bound may be left open, both are
/// inclusive). A parameter is active only when its parent is active too, so conditions nest to
/// any depth. The parent must be declared before its child, so conditions never form a cycle.
/// Float parents are not allowed: a threshold on a continuous value would make the active set
/// jump inside the continuous search of the acquisition optimizer.
struct Condition {
  std::string parent;  ///< empty: the parameter is always active
  std::vector<std::string> in;
  std::optional<std::int64_t> low, high;
};

/// One parameter of a search space. `low`/`high` are inclusive bounds (float, int);
/// `log` samples and models the parameter on a log scale (requires low > 0);
/// `step` (float, int; not with log) restricts the values to the grid low + k * step, with
/// high - low a multiple of step (0: no grid);
/// `choices` lists the values of a categorical parameter; `condition` makes it conditional.
struct ParamSpec {
  std::string name;
  ParamType type = ParamType::kFloat;
  double low = 0.0;
  double high = 1.0;
  bool log = false;
  std::vector<std::string> choices;
  double step = 0.0;
  Condition condition;
};

/// A parameter's value: double for float, int64 for int, string for categorical.
using ParamValue = std::variant<double, std::int64_t, std::string>;

/// A point of a space: parameter name -> value.
using Params = std::map<std::string, ParamValue>;

/// A linear inequality between numeric parameters, in the parameters' own units (not the
/// encoded cube): sum of terms[name] * value(name) <= bound, or >= bound when `greater`.
/// Terms name float or int parameters without log scale, with finite non-zero coefficients.
struct LinearConstraint {
  std::map<std::string, double> terms;
  double bound = 0.0;
  bool greater = false;
};

/// An ordered list of parameters and the bijection between their values and the unit cube.
/// Floats take one encoded dimension each ([low, high] -> [0, 1], on a log scale when `log`);
/// ints take one (each integer owns an equal-width bin), as do stepped floats and ints (each
/// grid value owns an equal-width bin); categoricals take one per choice (one-hot). Every mutator
/// validates and throws `InvalidArgument` with a message naming the parameter.
class Space {
 public:
  Space() = default;

  /// Adds a float parameter on [low, high]; with step > 0 only low + k * step (high - low must
  /// be a multiple of step, within 1e-9 relative; not with log). Throws InvalidArgument on a bad
  /// name, bounds or step.
  Space& add_float(const std::string& name, double low, double high, bool log = false,
                   double step = 0.0);
  /// Adds an integer parameter on [low, high] (inclusive); with step >= 1 only low + k * step.
  Space& add_int(const std::string& name, std::int64_t low, std::int64_t high, bool log = false,
                 std::int64_t step = 0);
  /// Adds a categorical parameter with at least one distinct choice.
  Space& add_categorical(const std::string& name, const std::vector<std::string>& choices);

  /// Adds a linear constraint (see LinearConstraint; add it after the parameters it names).
  /// Suggestions satisfy every constraint exactly (the sum taken in the terms' name order);
  /// enqueued points must satisfy them within 1e-9 relative; told and restored points need not.
  /// Throws InvalidArgument for an unknown, categorical, log or conditional parameter, a
  /// non-finite or zero coefficient, a non-finite bound, or constraints (with the fixed values)
  /// that leave no point: see linear_constraints.cpp for the search that looks for one.
  Space& add_constraint(const LinearConstraint& c);
  const std::vector<LinearConstraint>& constraints() const { return constraints_; }
  /// A copy of the space whose suggestions pin `values` (merged over the space's own fixed
  /// values; `values` win). The encoding is unchanged: a model fitted on every trial searches
  /// the sub-space. Throws InvalidArgument for an unknown or conditional parameter (fix its
  /// parent instead), a value outside its bounds, grid or choices, or values that leave no point
  /// satisfying the constraints.
  Space with_fixed(const Params& values) const;
  /// The values every suggestion carries (canonical types); empty when none.
  const Params& fixed() const { return fixed_; }
  /// Encoded dimensions pinned by fixed values (empty when nothing is fixed).
  const std::vector<bool>& fixed_mask() const { return fixed_mask_; }
  /// Throws InvalidArgument naming the first constraint that `p` (a valid point) violates by
  /// more than 1e-9 relative.
  void check_constraints(const Params& p) const;
  /// Whether the decoded point of `u` carries the fixed values and satisfies every constraint
  /// exactly (what snap() guarantees).
  bool admits(const Eigen::Ref<const Eigen::VectorXd>& u) const;
  /// snap() without the pull into the constraints: the parameters' grids and the fixed values
  /// only. A sampler tests admits() afterwards and draws again (rejection sampling).
  void snap_unconstrained(Eigen::Ref<Eigen::VectorXd> u) const;
  /// Replaces u by an admitted point on the segment from `from` (admitted) to u, near u
  /// (bisection); u unchanged when admitted already.
  void pull_toward(Eigen::Ref<Eigen::VectorXd> u,
                   const Eigen::Ref<const Eigen::VectorXd>& from) const;
  /// Makes parameter `name` conditional on an earlier parameter (src/space/conditions.cpp).
  /// Throws InvalidArgument naming the parameter when the parent is unknown, declared after it
  /// or itself, a float, or the condition can never hold (no choice of the parent's, a range
  /// outside its bounds or grid), or `name` already has a condition, a fixed value or a term in
  /// a linear constraint.
  Space& set_condition(const std::string& name, Condition condition);
  /// True when some parameter is conditional.
  bool has_conditions() const;
  /// True when parameter i is active at `p`, a point that holds (at least) the values of the
  /// active parameters declared before i.
  bool active(std::size_t i, const Params& p) const;
  /// `p` without the parameters that are inactive at it.
  Params active_only(const Params& p) const;
  /// Per encoded dimension: true when it belongs to a parameter active at decode(u).
  std::vector<bool> active_dims(const Eigen::Ref<const Eigen::VectorXd>& u) const;

  /// Parses the JSON form documented in the README:
  /// {"params": [{"name": "lr", "type": "float", "low": 1e-5, "high": 1e-1, "log": true}, ...],
  ///  "constraints": [{"terms": {"a": 1, "b": 1}, "<=": 1}], "fixed": {"lr": 0.01}}
  /// ("constraints" and "fixed" optional; a bare array of parameter objects is accepted too).
  /// Throws InvalidArgument.
  static Space from_json(const std::string& text);
  /// The JSON form; `from_json(to_json())` gives an equal space.
  std::string to_json() const;

  const std::vector<ParamSpec>& params() const { return params_; }
  /// Number of parameters.
  std::size_t size() const { return params_.size(); }
  /// Number of encoded dimensions (categoricals count one per choice).
  int encoded_dim() const { return encoded_dim_; }
  /// First encoded dimension of parameter i.
  int offset(std::size_t i) const { return offsets_[i]; }
  /// True for encoded dimensions that belong to an int or categorical parameter.
  const std::vector<bool>& discrete_mask() const { return discrete_mask_; }
  /// True when no parameter is continuous (stepped floats are not).
  bool all_discrete() const;

  /// Throws InvalidArgument unless `p` names exactly the space's active parameters, each with a
  /// value of the right type inside its bounds or choices (an integral double is accepted for an
  /// int).
  void validate(const Params& p) const;
  /// Validates `p` and returns it with each value in its parameter's own type (double for
  /// float, int64 for int), the values themselves unchanged.
  Params canonical(const Params& p) const;
  /// Encodes a valid point into [0, 1]^encoded_dim(). Validates first. An inactive parameter's
  /// dimensions hold a fixed value (kInactiveNumeric, or all zeros for a categorical).
  Eigen::VectorXd encode(const Params& p) const;
  /// Decodes any vector of length encoded_dim() (values are clamped to [0, 1]; ints rounded,
  /// categoricals by argmax; fixed parameters take their fixed values; inactive parameters left
  /// out). decode(encode(p)) == p.
  Params decode(const Eigen::Ref<const Eigen::VectorXd>& u) const;
  /// Projects an encoded vector onto the encodings of feasible points: encode(decode(u)), with
  /// the dimensions of inactive parameters at their fixed value, the fixed values set and, when
  /// that violates a constraint, pulled toward an admitted point (pull_toward) so that the
  /// result is admitted.
  void snap(Eigen::Ref<Eigen::VectorXd> u) const;

  bool operator==(const Space& other) const;

 private:
  void add(ParamSpec spec);
  /// snap() without the fixed values and constraints.
  void snap_params(Eigen::Ref<Eigen::VectorXd> u) const;
  /// The value of numeric parameter i at encoded coordinate x, as decode() gives it.
  double numeric_value(std::size_t i, double x) const;
  /// Sets the fixed values and pulls u into the constraints (the end of snap()).
  void restrict(Eigen::Ref<Eigen::VectorXd> u) const;
  /// Whether u (snapped) satisfies every constraint exactly.
  bool meets_constraints(const Eigen::Ref<const Eigen::VectorXd>& u) const;
  /// Looks for an admitted point (InvalidArgument when none is found).
  void find_feasible_point();
  /// Rebuilds terms_ from constraints_ and fixed_.
  void update_terms();
  /// The left-hand side of constraint k at u (fixed parameters at their fixed values).
  double constraint_lhs(std::size_t k, const Eigen::Ref<const Eigen::VectorXd>& u) const;
  /// One term of a constraint: parameter index, coefficient (its sign flipped for ">="), and
  /// the parameter's fixed value (NaN when not fixed).
  struct Term {
    std::size_t index;
    double coef;
    double fixed;
  };
  void impute_inactive(Eigen::Ref<Eigen::VectorXd> u) const;
  std::vector<ParamSpec> params_;
  std::vector<int> offsets_;
  std::vector<bool> discrete_mask_;
  int encoded_dim_ = 0;
  std::vector<LinearConstraint> constraints_;
  Params fixed_;
  Eigen::VectorXd fixed_u_;               // the fixed values' encoding on fixed_mask_
  std::vector<bool> fixed_mask_;          // empty while nothing is fixed
  Eigen::VectorXd feasible_u_;            // an admitted point; empty without constraints
  std::vector<std::vector<Term>> terms_;  // one list per constraint, in the terms' name order
};

/// The encoded value of an inactive float or int parameter: the centre of its unit interval.
inline constexpr double kInactiveNumeric = 0.5;

/// Human-readable form of a value ("0.5", "3", "adam").
std::string to_string(const ParamValue& v);

}  // namespace gpbo
