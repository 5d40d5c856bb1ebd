module example.com/go

go 1.23

require golang.org/x/text v0.21.0
