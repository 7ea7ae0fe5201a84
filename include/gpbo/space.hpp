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

  /// Makes parameter `name` conditional on an earlier parameter (src/space/conditions.cpp).
  /// Throws InvalidArgument naming the parameter when the parent is unknown, declared after it
  /// or itself, a float, or the condition can never hold (no choice of the parent's, a range
  /// outside its bounds or grid), or `name` already has a condition.
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
  /// {"params": [{"name": "lr", "type": "float", "low": 1e-5, "high": 1e-1, "log": true}, ...]}
  /// (a bare array of parameter objects is accepted too). Throws InvalidArgument.
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
  /// categoricals by argmax; inactive parameters left out). decode(encode(p)) == p.
  Params decode(const Eigen::Ref<const Eigen::VectorXd>& u) const;
  /// Projects an encoded vector onto the encodings of feasible points: encode(decode(u)); the
  /// dimensions of inactive parameters are set to their fixed value.
  void snap(Eigen::Ref<Eigen::VectorXd> u) const;

  bool operator==(const Space& other) const;

 private:
  void add(ParamSpec spec);
  void impute_inactive(Eigen::Ref<Eigen::VectorXd> u) const;
  std::vector<ParamSpec> params_;
  std::vector<int> offsets_;
  std::vector<bool> discrete_mask_;
  int encoded_dim_ = 0;
};

/// The encoded value of an inactive float or int parameter: the centre of its unit interval.
inline constexpr double kInactiveNumeric = 0.5;

/// Human-readable form of a value ("0.5", "3", "adam").
std::string to_string(const ParamValue& v);

}  // namespace gpbo
