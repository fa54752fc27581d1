"""The harness control loop: setpoints, sensors, a pure controller and actuators."""
