#pragma once
// What the report shows of a model of the results: a GP fitted to (a subset of) the complete
// trials, the parameters' relevance from its lengthscales, and slices of its mean through the
// best point.

#include <string>
#include <vector>

#include "gpbo/space.hpp"
#include "gpbo/trial.hpp"

namespace gpbo::report {

struct Importance {
  std::string name;
  /// Share of the total relevance (the shares sum to 1).
  double share = 0.0;
};

/// The model's mean and standard deviation along one parameter, the others at the best point.
struct Slice {
  std::string name;
  bool categorical = false;
  bool log = false;
  /// The parameter's values (categoricals: 0, 1, ... for `labels`).
  std::vector<double> x;
  std::vector<std::string> labels;
  std::vector<double> mean, sd;
};

struct ModelView {
  bool fitted = false;
  /// How the model was fitted, or why there is none.
  std::string note;
  /// Every parameter, most relevant first.
  std::vector<Importance> importance;
  /// The most relevant parameters (at most 4).
  std::vector<Slice> slices;
};

/// Fits a GP (CPU, Matern-5/2, one start) on at most 500 of the complete trials (the best 100
/// and an even spread of the rest) and describes it. `best` is the best complete trial's
/// params. Never throws: a model that cannot be fitted (fewer than 3 complete trials, or a
/// failed fit) comes back with fitted = false and the reason in `note`.
ModelView model_view(const Space& space, const std::vector<const Trial*>& complete, bool maximize,
                     const Params& best);

/// A parameter value as a number on its axis (a categorical's choice index).
double axis_value(const ParamSpec& spec, const ParamValue& v);

}  // namespace gpbo::report
