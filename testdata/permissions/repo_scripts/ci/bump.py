print("bump")
