module example.com/third

require golang.org/x/text v0.21.0
