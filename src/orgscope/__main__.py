from orgscope.cli import main

main()
