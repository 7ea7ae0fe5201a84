// The smallest useful gpbo program: tune three hyperparameters of a made-up objective with the
// ask/tell loop. Built with the project and run by ctest (examples.ask_tell).
#include <cmath>
#include <cstdio>

#include "gpbo/gpbo.hpp"

int main() {
  gpbo::Space space = gpbo::Space::from_json(R"({"params": [
      {"name": "lr", "type": "float", "low": 1e-4, "high": 1.0, "log": true},
      {"name": "layers", "type": "int", "low": 1, "high": 8},
      {"name": "optimizer", "type": "categorical", "choices": ["sgd", "adam"]}]})");

  gpbo::StudyOptions options;
  options.direction = gpbo::Direction::kMinimize;
  options.seed = 42;
  gpbo::Study study(space, options);

  for (int i = 0; i < 25; ++i) {
    const gpbo::Trial& trial = study.ask();
    const double lr = std::get<double>(trial.params.at("lr"));
    const auto layers = std::get<std::int64_t>(trial.params.at("layers"));
    const bool adam = std::get<std::string>(trial.params.at("optimizer")) == "adam";
    // A stand-in for a training run's validation loss.
    const double loss =
        std::pow(std::log10(lr) + 2.5, 2) + 0.1 * std::abs(layers - 4) + (adam ? 0.0 : 0.05);
    study.tell(trial.id, loss);
  }
  const gpbo::Trial best = *study.best();
  std::printf("best loss %.4f at lr=%s layers=%s optimizer=%s\n", *best.value,
              gpbo::to_string(best.params.at("lr")).c_str(),
              gpbo::to_string(best.params.at("layers")).c_str(),
              gpbo::to_string(best.params.at("optimizer")).c_str());
  return *best.value < 0.1 ? 0 : 1;  // lr near 10^-2.5 and 4 layers found
}
