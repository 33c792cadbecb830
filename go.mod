module github.com/gantry-sdk/gantry

go 1.26.8
