module example.com/app

require golang.org/x/text v0.21.0
