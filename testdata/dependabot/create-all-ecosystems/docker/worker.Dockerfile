FROM golang:1.23
