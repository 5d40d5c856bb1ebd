@echo off
rem Builds the project.
call cmake -S . -B build
cmake --build build
