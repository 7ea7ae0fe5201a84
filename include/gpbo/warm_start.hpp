#pragma once
/// Warm starts: the observations of earlier studies that a new study learns from
/// (Study::warm_start_from, `warm_start` of create-study at every front door). A source is a
/// copy, taken when the new study is created: later trials of the source study, or its
/// deletion, do not change the new study.

#include <string>
#include <vector>

#include "gpbo/metrics.hpp"
#include "gpbo/space.hpp"

namespace gpbo {

/// One complete trial of an earlier study: its point (by parameter name, each value typed as
/// its own parameter was: a number for a float or int, a string for a categorical) and value.
struct WarmStartObservation {
  Params params;
  double value = 0.0;
};

/// An earlier study. Its parameters are matched to the new space by name: a parameter of both
/// with values of the new parameter's kind (a number for float or int, a choice for a
/// categorical) is shared; one only in the new space is unknown to the source (the transferred
/// model is flat along it); one only in the source is dropped; a parameter whose kind changed
/// (numeric and categorical) counts as removed and added. Observations whose shared values lie
/// outside the new bounds, choices or grid, or that lack a shared parameter, are dropped.
struct WarmStartSource {
  /// The earlier study's name (a label; "file:PATH" for an exported file).
  std::string study;
  /// Its direction: values are compared on "higher is better" after it.
  Direction direction = Direction::kMinimize;
  std::vector<WarmStartObservation> observations;
};

/// Throws InvalidArgument unless every source shares at least one parameter with `space` and
/// keeps at least one observation with a finite value inside it, and no two sources share a
/// name.
void check_warm_start(const Space& space, const std::vector<WarmStartSource>& sources);

}  // namespace gpbo
