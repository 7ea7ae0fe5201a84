#pragma once
// The JSON form of a study's metrics (gpbo/metrics.hpp) as a JSON value, for the option codec
// and the study's JSON: {"objectives": [{"name", "direction"}], "constraints": [{"metric",
// "<=" or ">=": bound}]}, {} for the classic study.

#include <nlohmann/json.hpp>

#include "gpbo/metrics.hpp"

namespace gpbo {

nlohmann::json metrics_to_json_value(const Metrics& metrics);
/// InvalidArgument (naming what is wrong) when malformed; the result is checked.
Metrics metrics_from_json_value(const nlohmann::json& j);

/// A trial's metric values: {"acc": 0.93, "latency_ms": 12.5}.
nlohmann::json metric_values_to_json(const MetricValues& values);
/// Reads that object: finite numbers only (InvalidArgument naming the metric otherwise).
MetricValues metric_values_from_json(const nlohmann::json& j);

}  // namespace gpbo
