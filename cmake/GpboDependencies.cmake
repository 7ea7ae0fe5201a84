# Third-party dependencies, all from Debian packages (see scripts/setup.sh).
find_package(Eigen3 3.3 REQUIRED NO_MODULE)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(CLI11 REQUIRED)
find_package(Boost 1.74 REQUIRED)
find_package(spdlog REQUIRED)
find_package(SQLite3 REQUIRED)
# libpq, the PostgreSQL client library (libpq-dev), for postgresql:// stores.
find_package(PostgreSQL REQUIRED)
# OpenSSL (libssl-dev): libcrypto for SHA-256 (the report's trial-data digest, the log's hash
# chain, the server's token hashes) and random tokens; libssl for `gpbo serve --tls-cert` and
# https:// clients.
find_package(OpenSSL REQUIRED COMPONENTS Crypto SSL)

# cpp-httplib for `gpbo serve` and its client. Debian's libcpp-httplib-dev ships a compiled
# library (libcpp-httplib.so, built with OpenSSL, zlib and brotli) and a pkg-config file, but no
# CMake package; its header must be compiled with the same CPPHTTPLIB_* definitions as the
# library, which pkg-config supplies. An upstream install's CMake package is used when present.
find_package(httplib CONFIG QUIET)
if(TARGET httplib::httplib)
  add_library(gpbo_httplib INTERFACE)
  target_link_libraries(gpbo_httplib INTERFACE httplib::httplib)
else()
  find_package(PkgConfig REQUIRED)
  pkg_check_modules(CPP_HTTPLIB REQUIRED IMPORTED_TARGET cpp-httplib>=0.11)
  add_library(gpbo_httplib INTERFACE)
  target_link_libraries(gpbo_httplib INTERFACE PkgConfig::CPP_HTTPLIB)
endif()
# SSLServer and SSLClient (TLS): every translation unit that includes httplib.h must see the
# same definition (Debian's pkg-config file already passes it; an upstream package may not).
target_compile_definitions(gpbo_httplib INTERFACE CPPHTTPLIB_OPENSSL_SUPPORT)
target_link_libraries(gpbo_httplib INTERFACE OpenSSL::SSL OpenSSL::Crypto)
find_package(Threads REQUIRED)

find_path(LBFGSPP_INCLUDE_DIR LBFGSB.h REQUIRED)

# OpenBLAS-backed LAPACK for the CPU backend's Cholesky and inverse (dpotrf/dpotri).
find_package(LAPACK REQUIRED)
find_path(LAPACKE_INCLUDE_DIR lapacke.h REQUIRED)
find_library(LAPACKE_LIBRARY lapacke REQUIRED)
add_library(gpbo_lapack INTERFACE)
target_include_directories(gpbo_lapack INTERFACE ${LAPACKE_INCLUDE_DIR})
target_link_libraries(gpbo_lapack INTERFACE ${LAPACKE_LIBRARY} LAPACK::LAPACK)

