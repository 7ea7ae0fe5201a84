#include <iostream>

#include "cli/commands.hpp"
#include "service/error_table.hpp"

namespace gpbo::cli {

int report_error(const std::exception& e) {
  const service::ErrorMapping& m = service::error_mapping(e);
  std::cerr << "gpbo: " << m.cli_label << ": " << e.what() << "\n";
  return m.exit_code;
}

}  // namespace gpbo::cli
