import CollectorRuntime

await CollectorMain.main()
