// Backend × solver parity on the host backends other than xtensor: std::vector<float|double> (the
// reference itself: a run is reproducible) and Eigen vectors, matrices and arrays (column-major storage).
// The tests are defined in parity_cases.hpp.
#include "parity_cases.hpp"

TEST_CASE_TEMPLATE_INVOKE(backend_parity, std::vector<float>, std::vector<double>, Eigen::VectorXf, Eigen::VectorXd,
                          Eigen::MatrixXf, Eigen::ArrayXXd);
TEST_CASE_TEMPLATE_INVOKE(backend_same_seed, std::vector<float>, std::vector<double>, Eigen::VectorXf,
                          Eigen::VectorXd, Eigen::MatrixXf, Eigen::ArrayXXd);
TEST_CASE_TEMPLATE_INVOKE(backend_driver_parity, std::vector<float>, std::vector<double>, Eigen::VectorXf,
                          Eigen::VectorXd, Eigen::MatrixXf, Eigen::ArrayXXd);
