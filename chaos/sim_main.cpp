// vixy-sim: `vixy-chaos sim` as a program of its own (chaos/CMakeLists.txt says why).
#include <string>
#include <vector>

#include "chaos/sim.hpp"

int main(int argc, char** argv) {
  return vixy::chaos::sim::sim_command(std::vector<std::string>(argv + 1, argv + argc));
}
