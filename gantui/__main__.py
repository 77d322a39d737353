from gantui.cli import main

main()
